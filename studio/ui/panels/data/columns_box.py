"""The task and the columns it reads, with a bar chart of the labels (or tags) when the task has a label
(or tag) column, and for tags a sample row with its entity spans.

Every box, its title and whether it shows come from the task registry: a new task's columns appear here
without this file knowing it.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QGroupBox, QLabel, QSpinBox, QVBoxLayout, QWidget

from studio.core.data.columns import WORDS
from studio.core.errors import StudioError
from studio.core.tasks import registry
from studio.ui.jobs import Latest
from studio.ui.widgets.messages import ErrorLabel
from studio.ui.widgets.plot_theme import new_plot

_NONE = "(none)"
_SHOWN_CLASSES = 30  # bars in the label chart; the rest are counted in a line under it


class ColumnsBox(QGroupBox):
    """Emits `changed` when the task, a column or the validation share changes."""

    changed = Signal()

    def __init__(self) -> None:
        super().__init__("Task and columns")
        self.preview: Any = None
        self._labels_jobs = Latest(self)
        self._chart: Any = None
        self.form = QFormLayout(self)
        self.task = QComboBox(objectName="taskCombo")
        for task in registry.all_tasks():
            self.task.addItem(task.title, task.name)
            self.task.setItemData(self.task.count() - 1, task.help, Qt.ItemDataRole.ToolTipRole)
        self.task.setToolTip("What the model learns from this data; each task reads its own columns")
        self.form.addRow("Task", self.task)
        self.boxes: dict[str, QComboBox] = {}
        for column in registry.column_roles():
            box = QComboBox(objectName=f"{column.role}Column", toolTip=column.help)
            box.currentIndexChanged.connect(self._mapping_changed)
            self.boxes[column.role] = box
            self.form.addRow(f"{column.title} column", box)
        self.validation = QSpinBox(objectName="validationSplit", minimum=1, maximum=49, value=5, suffix=" %")
        self.validation.setToolTip("Share of rows held out to measure validation loss (never trained on); "
                                   "classes keep their shares")
        self.form.addRow("Validation", self.validation)
        self.mapping_error = ErrorLabel("mappingError")
        self.form.addRow(self.mapping_error)
        self.labels_box = QWidget(objectName="labelCounts", visible=False)
        labels_layout = QVBoxLayout(self.labels_box)
        labels_layout.setContentsMargins(0, 0, 0, 0)
        self.labels_summary = QLabel(objectName="labelSummary", wordWrap=True)
        self.labels_warning = QLabel(objectName="labelWarning", wordWrap=True)
        self.labels_warning.setStyleSheet("color: #d08a1e;")
        self.example = QLabel(objectName="taggedExample", wordWrap=True, visible=False)
        self.example.setToolTip("A row of the data with its entities shaded by type")
        labels_layout.addWidget(self.labels_summary)
        labels_layout.addWidget(self.labels_warning)
        labels_layout.addWidget(self.example)
        self.form.addRow(self.labels_box)
        self.task.currentIndexChanged.connect(self._guess_columns)
        self.validation.valueChanged.connect(lambda _: self.changed.emit())
        self.show_columns([])

    # ---- state --------------------------------------------------------------------------------------
    def current_task(self) -> Any:
        return registry.get(self.task.currentData())

    def set_task(self, name: str) -> None:
        self.task.setCurrentIndex(max(0, self.task.findData(name)))

    def controls(self) -> dict[str, str]:
        return {c.role: f"the {c.title} column box" for c in registry.column_roles()}

    def columns(self) -> dict[str, str]:
        """The chosen column of each of the task's roles ("" where none is chosen)."""
        return {c.role: self.boxes[c.role].currentData() or "" for c in self.current_task().columns}

    def mapping_ok(self) -> bool:
        return self.preview is not None and self.mapping_error.isHidden()

    # ---- columns ------------------------------------------------------------------------------------
    def show_columns(self, columns: list[str]) -> None:
        for box in self.boxes.values():
            box.blockSignals(True)
            box.clear()
            box.addItem(_NONE, "")
            for c in columns:
                box.addItem(c, c)
            box.blockSignals(False)
        self._guess_columns()

    def _guess_columns(self, *_: Any) -> None:
        task = self.current_task()
        guess: dict[str, str] = {}
        if self.preview is not None:
            try:
                guess = self.preview.mapping(task.columns, {}, self.controls())
            except StudioError:
                guess = {}
        for role, box in self.boxes.items():
            box.blockSignals(True)
            box.setCurrentIndex(max(0, box.findData(guess.get(role, ""))))
            box.blockSignals(False)
        self._mapping_changed()

    def _mapping_changed(self, *_: Any) -> None:
        task = self.current_task()
        used = {c.role for c in task.columns}
        for role, box in self.boxes.items():
            self.form.setRowVisible(box, role in used)
        self.mapping_error.clear_message()
        mapped: dict[str, str] = {}
        if self.preview is not None:
            try:
                mapped = self.preview.mapping(task.columns, self.columns(), self.controls())
            except StudioError as exc:
                self.mapping_error.show_message(str(exc))
        self._count_labels(task, mapped)
        self.changed.emit()

    # ---- label counts -------------------------------------------------------------------------------
    def _count_labels(self, task: Any, mapped: dict[str, str]) -> None:
        """Count the classes of the task's label column, in the background (the whole column is read)."""
        role = next((c for c in task.columns if c.kind.count is not None), None)
        self.labels_box.setVisible(role is not None and role.role in mapped)
        if role is None or role.role not in mapped:
            self._labels_jobs.forget()  # an answer still on its way is about other columns
            return
        preview, column, control = self.preview, mapped[role.role], self.controls()[role.role]
        words = next((mapped[c.role] for c in task.columns if c.kind == WORDS), None)
        self.labels_summary.setText(f"Counting the {role.title.lower()} in '{column}'…")
        self.labels_warning.setText("")

        def work(progress: Any, control_: Any) -> Any:
            found = preview.counts(role.kind, column, control)
            return found, preview.tagged_example(words, column) if words else None

        self._labels_jobs.start(work, done=lambda result: self._show_labels(*result), failed=self._labels_failed)

    def _labels_failed(self, text: str) -> None:
        self.labels_box.hide()
        self.mapping_error.show_message(text)
        self.changed.emit()

    def _show_labels(self, found: Any, example: tuple[list[str], list[str]] | None) -> None:
        import pyqtgraph as pg

        from studio.core.data.tags import entity_types
        from studio.ui.widgets.entities import words_html

        total = sum(found.counts)
        if example is None:
            missing = f"; {found.missing:,} rows have no label and are left out" if found.missing else ""
            self.labels_summary.setText(f"{len(found.names)} classes in {total:,} rows{missing}.")
        else:
            missing = f"; {found.missing:,} rows without words are left out" if found.missing else ""
            kinds = entity_types(found.names)
            self.labels_summary.setText(f"{len(found.names)} tags ({len(kinds)} entity types: {', '.join(kinds[:8])}) "
                                        f"on {total:,} words{missing}.")
            self.example.setText(words_html(*example, kinds) if example[0] else "")
        self.example.setVisible(bool(example and example[0]))
        self.labels_warning.setText(" ".join(found.warnings()))
        self.labels_warning.setVisible(bool(found.warnings()))
        if self._chart is None:
            self._chart = new_plot("labelChart")
            self._chart.setMenuEnabled(False)
            self._chart.setMouseEnabled(x=False, y=False)
            self._chart.setLabel("bottom", "rows")
            self.labels_box.layout().insertWidget(1, self._chart)
            self._chart.show()  # a widget added to a window already on screen stays hidden until shown
        order = sorted(range(len(found.names)), key=lambda i: -found.counts[i])[:_SHOWN_CLASSES]
        plot = self._chart.getPlotItem()
        plot.clear()
        plot.addItem(pg.BarGraphItem(x0=0, y=list(range(len(order))), height=0.7,
                                     width=[found.counts[i] for i in order], brush="#4f8cff"))
        plot.getAxis("left").setTicks([[(row, found.names[i][:18]) for row, i in enumerate(order)]])
        plot.invertY(True)
        plot.setYRange(-0.5, len(order) - 0.5, padding=0)
        self._chart.setFixedHeight(min(260, 40 + 18 * len(order)))
        hidden = len(found.names) - len(order)
        if hidden > 0:
            self.labels_summary.setText(self.labels_summary.text() + f" The chart shows the {len(order)} largest; "
                                                                     f"{hidden} more are smaller.")
        self.changed.emit()
