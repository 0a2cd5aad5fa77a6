"""The Train panel: the wizard, the live monitor of the running job, and the history of runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QLabel, QPushButton, QTableWidget, QTableWidgetItem,
                               QTabWidget, QVBoxLayout, QWidget)

from studio.core.errors import StudioError
from studio.core.runs import store as runs
from studio.core.system import workspace
from studio.core.tasks import registry
from studio.core.training.config import RunConfig
from studio.ui.panels.train.wizard import Wizard
from studio.ui.training_thread import TrainingThread

_HISTORY_COLUMNS = ("Run", "Task", "From", "Status", "Step", "Train loss", "Val loss", "Result")
_STATUS = _HISTORY_COLUMNS.index("Status")


class TrainPanel(QWidget):
    """Emits `run_changed(text)` for the status bar: the active run and its state."""

    run_changed = Signal(str)
    progress = Signal(int, int)  # step, planned steps: for the status bar
    run_ended = Signal(str)  # a run folder that finished, stopped or failed: model lists change
    open_model = Signal(str, str)  # a run folder and where to open it ("playground" or "attention")
    try_text = Signal(str, str)  # a run folder and a text to classify with its model

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("trainPanel")
        self.thread: TrainingThread | None = None
        self.monitor: Any = None
        self.wizard = Wizard()
        self.wizard.start_requested.connect(self.start)
        self.tabs = QTabWidget(objectName="trainTabs")
        self.tabs.addTab(self.wizard, "New Run")
        self.monitor_holder = QWidget()
        self.monitor_layout = QVBoxLayout(self.monitor_holder)
        self.monitor_placeholder = QLabel("Start a run in New Run, or open one from Runs, to watch it here.",
                                          alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True)
        self.monitor_layout.addWidget(self.monitor_placeholder)
        self.tabs.addTab(self.monitor_holder, "Monitor")
        self.tabs.addTab(self._history(), "Runs")
        self.tabs.currentChanged.connect(lambda i: i == 2 and self.refresh_runs())
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)

    def _history(self) -> QWidget:
        page = QWidget()
        self.runs_table = QTableWidget(0, len(_HISTORY_COLUMNS), objectName="runsTable")
        self.runs_table.setHorizontalHeaderLabels(_HISTORY_COLUMNS)
        self.runs_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.runs_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.runs_table.horizontalHeader().setStretchLastSection(True)
        self.runs_table.itemSelectionChanged.connect(self._selection_changed)
        self.runs_table.doubleClicked.connect(lambda _: self.open_selected())
        self.open_button = QPushButton("Open", objectName="openRunButton", clicked=self.open_selected, enabled=False)
        self.open_button.setToolTip("Show this run's curves in the Monitor")
        self.overlay_button = QPushButton("Compare", objectName="compareRunsButton", clicked=self.compare_selected,
                                          enabled=False)
        self.overlay_button.setToolTip("Overlay the loss and the task's metrics of the selected runs in the Monitor")
        self.scratch_button = QPushButton("Train From Scratch", objectName="scratchButton", enabled=False,
                                          clicked=self.scratch_selected)
        self.scratch_button.setToolTip("For a run that started from another run (a fine-tune of a pretrained "
                                       "model): train the same settings from an untrained model, shown over it, "
                                       "to see what the pretraining bought")
        self.resume_button = QPushButton("Resume", objectName="resumeRunButton", clicked=self.resume_selected,
                                         enabled=False)
        self.resume_button.setToolTip("Continue a stopped or failed run from its latest checkpoint")
        refresh = QPushButton("Refresh", objectName="refreshRunsButton", clicked=self.refresh_runs)
        buttons = QHBoxLayout()
        for b in (self.open_button, self.overlay_button, self.resume_button, self.scratch_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(refresh)
        self.runs_empty = QLabel("No runs yet in the workspace.", objectName="runsEmpty")
        layout = QVBoxLayout(page)
        layout.addWidget(self.runs_empty)
        layout.addWidget(self.runs_table, 1)
        layout.addLayout(buttons)
        return page

    # ---- the monitor is built on first use: it imports pyqtgraph -------------------------------------
    def ensure_monitor(self) -> Any:
        if self.monitor is None:
            from studio.ui.panels.train.monitor import Monitor

            self.monitor = Monitor()
            self.monitor.pause_toggled.connect(self._pause)
            self.monitor.stop_requested.connect(self.stop)
            self.monitor.save_requested.connect(lambda: self.thread and self.thread.control.request_save())
            self.monitor.open_model.connect(self.open_model)
            self.monitor.try_text.connect(self.try_text)
            bar = self.monitor.progress
            bar.valueChanged.connect(lambda value: self.progress.emit(value, bar.maximum()))
            self.monitor_placeholder.hide()
            self.monitor_layout.addWidget(self.monitor)
        return self.monitor

    # ---- running --------------------------------------------------------------------------------------
    @property
    def training(self) -> bool:
        return self.thread is not None and self.thread.isRunning()

    def start(self, config: RunConfig) -> None:
        self._launch(TrainingThread(config), config.max_steps, f"Training {config.model}", registry.get(config.task))

    def resume_run(self, run_dir: Path) -> None:
        info = runs.read(run_dir, with_history=False)
        self._launch(TrainingThread(resume_dir=run_dir), info.planned_steps, f"Resuming {run_dir.name}",
                     registry.find(info.task))

    def _launch(self, thread: TrainingThread, planned: int, label: str, task: Any) -> None:
        if self.training:
            self.ensure_monitor().error.show_message("A run is already training; stop it before starting another.")
            self.tabs.setCurrentIndex(1)
            return
        monitor = self.ensure_monitor()
        self.thread = thread
        thread.finished_ok.connect(self._finished)
        thread.failed.connect(self._failed)
        monitor.attach(thread, planned, task)
        self.tabs.setCurrentIndex(1)
        self.wizard.set_running(True)
        thread.start()
        self.run_changed.emit(label)  # after start(): the status bar shows progress only while training

    def _pause(self, paused: bool) -> None:
        if self.thread is None:
            return
        if paused:
            self.thread.control.pause()
        else:
            self.thread.control.resume()
        self.run_changed.emit("Paused" if paused else "Training")

    def stop(self) -> None:
        if self.thread is not None:
            self.thread.control.stop()
            self.monitor.status.setText("Stopping: saving a checkpoint after this step…")

    def stop_and_wait(self, timeout_ms: int = 120_000) -> bool:
        """Stop with a checkpoint and wait for the thread (used when the window closes)."""
        if not self.training:
            return True
        self.stop()
        return self.thread.wait(timeout_ms)

    def _finished(self, result: Any) -> None:
        has_model = result.model_dir is not None or bool(runs.checkpoints(Path(result.run_dir)))
        self.monitor.detach(has_model)
        resume = " Resume it from Runs to continue." if result.status == "stopped" else ""
        self.monitor.status.setText(result.message + resume)
        self._ended(f"{Path(result.run_dir).name}: {result.status}", result.run_dir)

    def _failed(self, text: str) -> None:
        run_dir = self.monitor.run_dir
        self.monitor.detach(bool(run_dir and runs.checkpoints(Path(run_dir))))
        self.monitor.error.show_message(text)
        self.monitor.status.setText("The run ended with an error; its last checkpoint is kept.")
        self._ended("Run failed", run_dir)

    def _ended(self, label: str, run_dir: str | None) -> None:
        self.wizard.set_running(False)
        self.run_changed.emit(label)
        self.refresh_runs()
        if run_dir:
            self.run_ended.emit(run_dir)

    # ---- history ------------------------------------------------------------------------------------
    def refresh_runs(self) -> None:
        found = runs.list_runs(workspace.runs_dir(workspace.workspace()))
        self.runs_table.setRowCount(len(found))
        for row, info in enumerate(found):
            task = registry.find(info.task)
            cells = (info.name, task.title if task else info.task, _origin(info), info.status,
                     f"{info.global_step:,} / {info.planned_steps:,}", _loss(info.last.get("train_loss")),
                     _loss(info.last.get("eval_loss")), _result(task, info.last))
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, info.path)
                self.runs_table.setItem(row, col, item)
        self.runs_table.resizeColumnsToContents()
        self.runs_empty.setVisible(not found)

    def _selected_paths(self) -> list[Path]:
        rows = sorted({i.row() for i in self.runs_table.selectedIndexes()})
        return [Path(self.runs_table.item(r, 0).data(Qt.ItemDataRole.UserRole)) for r in rows]

    def _selection_changed(self) -> None:
        paths = self._selected_paths()
        self.open_button.setEnabled(len(paths) == 1)
        self.overlay_button.setEnabled(len(paths) >= 1)
        status = self.runs_table.item(self.runs_table.currentRow(), _STATUS)
        self.resume_button.setEnabled(len(paths) == 1 and status is not None
                                      and status.text() in ("stopped", "failed") and not self.training)
        origin = self.runs_table.item(self.runs_table.currentRow(), _HISTORY_COLUMNS.index("From"))
        self.scratch_button.setEnabled(len(paths) == 1 and origin is not None and origin.text().startswith("←")
                                       and not self.training)

    def select_runs(self, names: list[str]) -> None:
        self.runs_table.clearSelection()
        mode = self.runs_table.selectionMode()
        self.runs_table.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
        for row in range(self.runs_table.rowCount()):
            if self.runs_table.item(row, 0).text() in names:
                self.runs_table.selectRow(row)
        self.runs_table.setSelectionMode(mode)

    def open_selected(self) -> None:
        paths = self._selected_paths()
        if len(paths) != 1 or self.training:
            return
        info = runs.read(paths[0])
        self.ensure_monitor().show_history(info, registry.find(info.task))
        self.tabs.setCurrentIndex(1)

    def compare_selected(self) -> None:
        monitor = self.ensure_monitor()
        monitor.set_overlays({p.name: runs.read(p).history for p in self._selected_paths()})
        self.tabs.setCurrentIndex(1)

    def scratch_selected(self) -> None:
        """Start the selected fine-tune's twin from scratch, with the fine-tune drawn over it."""
        from studio.core.training.config import from_scratch

        paths = self._selected_paths()
        if len(paths) != 1:
            return
        try:
            config = from_scratch(paths[0])
        except StudioError as exc:
            self.ensure_monitor().error.show_message(str(exc))
            return
        self.start(config)
        self.monitor.set_overlays({paths[0].name: runs.read(paths[0]).history})

    def resume_selected(self) -> None:
        paths = self._selected_paths()
        if len(paths) == 1:
            try:
                self.resume_run(paths[0])
            except StudioError as exc:
                self.ensure_monitor().error.show_message(str(exc))


def _loss(value: float | None) -> str:
    return f"{value:.3f}" if isinstance(value, float) else "–"


def _origin(info: Any) -> str:
    """Where a run started: "← base-run" (and its step) for a run continued from another, else the model."""
    if info.base:
        step = "" if info.base.get("step") is None else f" (step {info.base['step']:,})"
        return f"← {info.base['run']}{step}"
    return Path(info.model).name or info.model


def _result(task: Any, last: dict[str, Any]) -> str:
    """The task's headline metrics at the run's last evaluation, e.g. "Accuracy 93.1%"."""
    if task is None:
        return ""
    shown = [f"{m.title} {last[m.name]:.1%}" if m.share else f"{m.title} {last[m.name]:,.2f}"
             for m in task.headline if last.get(m.name) is not None]
    return ", ".join(shown[:2])
