"""One masked language model's answer: for every mask in the text, its likeliest tokens; clicking one
fills that mask in, and the rest are asked again with it in place."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QAbstractItemView, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from studio.ui.jobs import Job
from studio.ui.widgets.messages import ErrorLabel
from studio.ui.widgets.token_text import visible

CANDIDATES = 8


class MasksColumn(QWidget):
    """`finished(list)` when candidates arrive; `chosen(mask index, token text)` when one is clicked."""

    finished = Signal(object)
    failed = Signal(str)
    chosen = Signal(int, str)

    def __init__(self, name: str) -> None:
        super().__init__()
        self.setObjectName(name)
        self.title = QLabel("", objectName=f"{name}Title")
        self.table = QTableWidget(0, 0, objectName=f"{name}Candidates")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setToolTip("The likeliest tokens for each mask, most likely first. Click one to fill that mask "
                              "in; the other masks are then asked again with it in place.")
        self.table.cellClicked.connect(self._clicked)
        self.error = ErrorLabel(f"{name}Error")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.error)
        self.result: list[list[Any]] | None = None
        self._job: Job | None = None
        self._pending = 0

    @property
    def running(self) -> bool:
        return self._job is not None and self._job.running

    def show_model(self, text: str, loaded: Any = None) -> None:
        self.title.setText(f"<b>{text}</b>")

    def ask(self, loaded: Any, text: str) -> None:
        from studio.core.playground.fill_mask import fill

        self._pending += 1
        request = self._pending
        job = Job(lambda progress, control: fill(loaded, text, top_k=CANDIDATES), self)
        self._job = job
        job.done.connect(lambda masks: request == self._pending and self.show_result(masks))
        job.failed.connect(lambda message: request == self._pending and self._failed(message))
        job.start()

    def show_result(self, masks: list[list[Any]]) -> None:
        self.result = masks
        self.error.clear_message()
        self.table.clear()
        self.table.setColumnCount(len(masks))
        self.table.setRowCount(max((len(m) for m in masks), default=0))
        self.table.setHorizontalHeaderLabels([f"mask {i + 1}" for i in range(len(masks))])
        for column, candidates in enumerate(masks):
            for row, candidate in enumerate(candidates):
                item = QTableWidgetItem(f"{visible(candidate.token)}   {candidate.score:.1%}")
                item.setToolTip(f"token {candidate.id}: {candidate.token!r}")
                self.table.setItem(row, column, item)
        self.table.resizeColumnsToContents()
        self.finished.emit(masks)

    def _clicked(self, row: int, column: int) -> None:
        if self.result and column < len(self.result) and row < len(self.result[column]):
            self.chosen.emit(column, self.result[column][row].token)

    def _failed(self, message: str) -> None:
        self.table.setRowCount(0)
        self.error.show_message(message)
        self.failed.emit(message)

    def clear(self) -> None:
        self.result = None
        self._pending += 1
        self.table.setRowCount(0)
