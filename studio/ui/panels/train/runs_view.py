"""The Runs tab: every run in the workspace with what people compare runs by, sortable and filterable,
and what can be done with them (open, compare, resume, try, inspect, rename, notes, settings diff,
history as CSV, delete to the trash).
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QFile, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.core.errors import StudioError
from studio.core.runs import compare, labels, reader, summary, writer
from studio.core.system import sizes, workspace
from studio.core.system.files import atomic_write_text
from studio.core.tasks import registry
from studio.ui.jobs import Latest
from studio.ui.panels.train.run_dialogs import DiffDialog, NotesDialog
from studio.ui.widgets.export_dialog import open_export_dialog
from studio.ui.widgets.messages import ErrorLabel

COLUMNS = ("Name", "Task", "Model", "Status", "Steps", "Best validation", "Duration", "Started")
NAME, TASK, MODEL, STATUS, STEPS, BEST, DURATION, STARTED = range(len(COLUMNS))
_SCRATCH_TIP = ("For a run that started from another run: train the same settings from an untrained model, shown "
                "over it, to see what the pretraining bought")
_PATH = Qt.ItemDataRole.UserRole
_SORT = Qt.ItemDataRole.UserRole + 1
_FACTS = Qt.ItemDataRole.UserRole + 2  # what the actions need to know of a run: has a model, has a base run


class _Item(QTableWidgetItem):
    """A cell that sorts by its sort key (a number for steps, times and scores), not its text."""

    def __lt__(self, other: QTableWidgetItem) -> bool:
        mine, theirs = self.data(_SORT), other.data(_SORT)
        if mine is None or theirs is None:
            return (mine is None, self.text()) < (theirs is None, other.text())
        return mine < theirs


class RunsView(QWidget):
    open_run = Signal(str)  # show it in the Monitor
    compare_runs = Signal(list)  # run folders to overlay
    resume_run = Signal(str)
    scratch_run = Signal(str)
    open_model = Signal(str, str)  # run folder, "playground" or "attention"

    def __init__(self) -> None:
        super().__init__()
        self._listing = Latest(self, light=True)  # the runs' records, read without torch
        self.training = False  # a run is training: resuming or starting another waits
        self.filter = QLineEdit(objectName="runsFilter", placeholderText="Filter by name, task, model, status or notes",
                                clearButtonEnabled=True)
        self.filter.textChanged.connect(self._apply_filter)
        self.table = QTableWidget(0, len(COLUMNS), objectName="runsTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.horizontalHeaderItem(DURATION).setToolTip(
            "Time spent training, from its start to the saved model, added up over every session of a resumed "
            "run; preparing the data is not counted")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        # the name is what a person reads first; the other columns are short and take what they need
        self.table.horizontalHeader().setSectionResizeMode(NAME, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().hide()
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(STARTED, Qt.SortOrder.DescendingOrder)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.table.doubleClicked.connect(lambda _: self._open())
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(lambda pos: self._menu().exec(self.table.mapToGlobal(pos)))
        self.empty = QLabel("No runs yet in the workspace.", objectName="runsEmpty")
        self.error = ErrorLabel("runsError")
        self.open_button = self._button("Open", "openRunButton", self._open, "Show this run's curves in the Monitor")
        self.compare_button = self._button("Compare", "compareRunsButton", self._compare,
                                           "Overlay the loss and the task's metrics of the selected runs in the Monitor")
        self.resume_button = self._button("Resume", "resumeRunButton", self._resume,
                                          "Continue a stopped or failed run from its latest checkpoint")
        self.playground_button = self._button("Open in Playground", "runPlaygroundButton",
                                              lambda: self._open_model("playground"), "Talk to this run's model")
        self.attention_button = self._button("Inspect Attention", "runAttentionButton",
                                             lambda: self._open_model("attention"), "Look inside this run's model")
        self.export_button = self._button("Export…", "runExportButton",
                                          lambda: (path := self._one()) and open_export_dialog(str(path), self),
                                          "Write this run's model for llama.cpp, LM Studio, Ollama or the Hub, or as a "
                                          "clean model folder")
        self.actions = self._make_actions()
        more = QToolButton(objectName="runsMoreButton", text="More", popupMode=QToolButton.ToolButtonPopupMode.InstantPopup)
        more.setMenu(self._menu(full=False))
        refresh = QPushButton("Refresh", objectName="refreshRunsButton", clicked=self.refresh)
        buttons = QHBoxLayout()
        for b in (self.open_button, self.compare_button, self.resume_button, self.playground_button,
                  self.attention_button, self.export_button, more):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(refresh)
        layout = QVBoxLayout(self)
        layout.addWidget(self.filter)
        layout.addWidget(self.empty)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.error)
        layout.addLayout(buttons)
        self._selection_changed()

    def _button(self, text: str, name: str, slot: Any, tip: str) -> QPushButton:
        return QPushButton(text, objectName=name, clicked=lambda: slot(), enabled=False, toolTip=tip)

    def _make_actions(self) -> dict[str, QAction]:
        specs = (("rename", "Rename…", self._rename, "Give the run a name of your own (its folder keeps its name)"),
                 ("notes", "Notes…", self._edit_notes, "Write down what this run was for and what it showed"),
                 ("diff", "Compare Settings", self._diff, "The settings in which two selected runs differ"),
                 ("csv", "Export History as CSV…", self._export_csv, "Every logged step and metric, for a spreadsheet"),
                 ("scratch", "Train From Scratch", self._scratch, _SCRATCH_TIP),
                 ("delete", "Delete…", self._delete, "Move the run's folder to the trash"))
        found = {}
        for key, text, slot, tip in specs:
            action = QAction(text, self, objectName=f"runs_{key}", toolTip=tip, statusTip=tip)
            action.triggered.connect(lambda *_, s=slot: s())
            found[key] = action
        return found

    def _menu(self, full: bool = True) -> QMenu:
        menu = QMenu(self)
        if full:
            for button in (self.open_button, self.compare_button, self.resume_button, self.playground_button,
                           self.attention_button, self.export_button):
                action = menu.addAction(button.text(), button.click)
                action.setEnabled(button.isEnabled())
            menu.addSeparator()
        for key in ("rename", "notes", "diff", "csv", "scratch"):
            menu.addAction(self.actions[key])
        menu.addSeparator()
        menu.addAction(self.actions["delete"])
        return menu

    # ---- the table ----------------------------------------------------------------------------------
    def refresh(self) -> None:
        """List the workspace's runs again, read in the background (a workspace of hundreds of runs takes a
        moment to read); the table changes when they are all read."""
        root = workspace.runs_dir(workspace.workspace())
        self._listing.start(lambda progress, control: [(info, _cells(info), _tip(info))
                                                       for info in reader.list_runs(root)],
                            done=self._fill, failed=self.error.show_message)

    @property
    def listing(self) -> bool:
        """Whether runs are being read for the table."""
        return self._listing.running

    def _fill(self, found: list[tuple[Any, list[tuple[str, Any]], str]]) -> None:
        chosen = set(map(str, self.selected()))
        self.table.setSortingEnabled(False)  # rows would move while they are filled
        self.table.setRowCount(len(found))
        for row, (info, cells, tip) in enumerate(found):
            for col, (text, key) in enumerate(cells):
                item = _Item(text)
                item.setData(_PATH, info.path)
                item.setData(_SORT, key)
                item.setData(_FACTS, {"model": bool(info.model_dir or info.checkpoints), "base": bool(info.base)})
                item.setToolTip(tip)
                self.table.setItem(row, col, item)
        self.table.setSortingEnabled(True)
        self.table.resizeColumnsToContents()
        self.empty.setVisible(not found)
        self._apply_filter()
        if chosen:
            self.select_paths(chosen)

    def _apply_filter(self) -> None:
        words = self.filter.text().lower().split()
        for row in range(self.table.rowCount()):
            text = " ".join(self.table.item(row, c).text() for c in range(len(COLUMNS)))
            text += " " + self.table.item(row, NAME).toolTip()
            self.table.setRowHidden(row, not all(w in text.lower() for w in words))

    def selected(self) -> list[Path]:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        return [Path(self.table.item(r, NAME).data(_PATH)) for r in rows]

    def select(self, names: list[str]) -> None:
        """Select the runs shown under these names (folder names or titles)."""
        self._select(lambda row: any(self._named(row, name) for name in names))

    def _named(self, row: int, name: str) -> bool:
        item = self.table.item(row, NAME)
        return item.text() == name or Path(item.data(_PATH)).name == name

    def select_paths(self, paths: set[str]) -> None:
        self._select(lambda row: self.table.item(row, NAME).data(_PATH) in paths)

    def _select(self, wanted: Any) -> None:
        self.table.clearSelection()
        mode = self.table.selectionMode()
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
        for row in range(self.table.rowCount()):
            if wanted(row):
                self.table.selectRow(row)
        self.table.setSelectionMode(mode)

    def row_of(self, name: str) -> int:
        """The table row showing the run folder `name`; -1 when it is not listed."""
        return next((r for r in range(self.table.rowCount()) if self._named(r, name)), -1)

    def _selection_changed(self) -> None:
        paths = self.selected()
        one = len(paths) == 1
        row = self.table.selectedIndexes()[0].row() if one else -1
        status = self.table.item(row, STATUS).text() if one else ""
        facts = self.table.item(row, NAME).data(_FACTS) if one else {}
        has_model = one and facts["model"]
        self.open_button.setEnabled(one)
        self.compare_button.setEnabled(bool(paths))
        self.resume_button.setEnabled(one and status in ("stopped", "failed") and not self.training)
        self.playground_button.setEnabled(has_model)
        self.attention_button.setEnabled(has_model)
        self.export_button.setEnabled(has_model)
        for key in ("rename", "notes", "csv"):
            self.actions[key].setEnabled(one)
        self.actions["diff"].setEnabled(len(paths) == 2)
        self.actions["scratch"].setEnabled(one and facts["base"] and not self.training)
        self.actions["delete"].setEnabled(bool(paths) and status != "running")

    # ---- actions ------------------------------------------------------------------------------------
    def _one(self) -> Path | None:
        paths = self.selected()
        return paths[0] if len(paths) == 1 else None

    def _open(self) -> None:
        path = self._one()
        if path is not None and not self.training:
            self.open_run.emit(str(path))

    def _compare(self) -> None:
        if self.selected():
            self.compare_runs.emit([str(p) for p in self.selected()])

    def _resume(self) -> None:
        path = self._one()
        if path is not None:
            self.resume_run.emit(str(path))

    def _scratch(self) -> None:
        path = self._one()
        if path is not None:
            self.scratch_run.emit(str(path))

    def _open_model(self, where: str) -> None:
        path = self._one()
        if path is not None:
            self.open_model.emit(str(path), where)

    def _rename(self) -> None:
        path = self._one()
        if path is None:
            return
        info = reader.read(path, with_history=False)
        title, ok = QInputDialog.getText(self, "Rename run", f"A name for {path.name} (empty: the folder's name):",
                                         text=info.title)
        if ok:
            self._label(path, title=title)

    def _edit_notes(self) -> None:
        path = self._one()
        if path is None:
            return
        dialog = NotesDialog(path.name, reader.read(path, with_history=False).notes, self)
        if dialog.exec():
            self._label(path, notes=dialog.text())

    def _label(self, path: Path, **values: str) -> None:
        try:
            labels.set_label(path, **values)
        except OSError as exc:
            self.error.show_message(f"Could not save the label of {path.name} ({exc.strerror or exc}).")
            return
        self.error.clear_message()
        self.refresh()

    def _diff(self) -> None:
        paths = self.selected()
        if len(paths) == 2:
            DiffDialog(paths[0], paths[1], self).exec()

    def _export_csv(self) -> None:
        path = self._one()
        if path is None:
            return
        target, _ = QFileDialog.getSaveFileName(self, "Export the run's history", f"{path.name}.csv", "CSV (*.csv)")
        if target:
            self.export_csv(path, Path(target))

    def export_csv(self, run_dir: Path, target: Path) -> bool:
        try:
            atomic_write_text(target, compare.history_csv(reader.read(run_dir).history))
        except (OSError, StudioError) as exc:
            self.error.show_message(f"Could not write {target.name}: {getattr(exc, 'strerror', None) or exc}.")
            return False
        self.error.clear_message()
        return True

    def _delete(self) -> None:
        paths = self.selected()
        if not paths:
            return
        names = ", ".join(p.name for p in paths)
        asked = QMessageBox.question(self, "Delete runs", f"Move {names} to the trash? Its checkpoints, model and "
                                     "metrics go with it.")
        if asked != QMessageBox.StandardButton.Yes:
            return
        self.delete(paths)

    def delete(self, paths: list[Path]) -> None:
        """Move the runs to the system's trash; where there is none, ask once more and delete for good."""
        for path in paths:
            try:
                writer.ensure_stopped(path)
                if QFile.moveToTrash(str(path)):
                    continue
                asked = QMessageBox.warning(self, "No trash", f"This system has no trash for {path.name}. Delete it "
                                            "for good?", QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
                if asked == QMessageBox.StandardButton.Yes:
                    writer.delete(path)
            except (OSError, StudioError) as exc:
                self.error.show_message(str(exc) if isinstance(exc, StudioError) else
                                        f"Could not delete {path.name} ({exc.strerror or exc}).")
                break
        else:
            self.error.clear_message()
        self.refresh()


def _cells(info: Any) -> list[tuple[str, Any]]:
    """(text, sort key) for each column of a run's row."""
    task = registry.find(info.task)
    seconds = summary.trained_seconds(info)
    shown, score = _best(task, info)
    return [(info.title or info.name, (info.title or info.name).lower()),
            (task.title if task else info.task, task.title if task else info.task),
            (_origin(info), _origin(info).lower()), (info.status, info.status),
            (f"{info.global_step:,} / {info.planned_steps:,}", info.global_step), (shown, score),
            (sizes.duration(seconds), seconds), (_when(info.started), info.started)]


def _best(task: Any, info: Any) -> tuple[str, float | None]:
    """The task's first headline metric at its best evaluation, e.g. "Accuracy 93.1% @ 400"; sorted best
    first whichever way the metric points."""
    if task is None:
        return "", None
    for metric in task.headline:
        found = summary.best(info, metric.name, metric.higher_is_better)
        if found is None:
            continue
        step, value = found
        text = f"{value:.1%}" if metric.share else f"{value:,.2f}"
        return f"{metric.title} {text} @ {step:,}", value if metric.higher_is_better else -value
    found = summary.best(info, "eval_loss", higher_is_better=False)
    if found is None:
        return "–", None
    return f"Val loss {found[1]:.3f} @ {found[0]:,}", -found[1]


def _origin(info: Any) -> str:
    """Where a run started: "← base-run" (and its step) for a run continued from another, else the model."""
    if info.base:
        step = "" if info.base.get("step") is None else f" (step {info.base['step']:,})"
        return f"← {info.base['run']}{step}"
    return Path(info.model).name or info.model


def _tip(info: Any) -> str:
    lines = [info.path]
    if info.title:
        lines.append(f"Folder: {info.name}")
    if info.notes:
        lines.append(info.notes)
    return "\n".join(lines)


def _when(started: float | None) -> str:
    if started is None:
        return "–"
    moment = datetime.datetime.fromtimestamp(started)
    today = datetime.date.today()
    if moment.date() == today:
        return moment.strftime("today %H:%M")
    return moment.strftime("%Y-%m-%d %H:%M")
