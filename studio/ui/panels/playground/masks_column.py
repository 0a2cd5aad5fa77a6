"""One masked language model's answer: for every mask in the text, its likeliest tokens; clicking one
fills that mask in, and the rest are asked again with it in place."""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QTableWidget, QTableWidgetItem

from studio.ui.panels.playground.answer_column import AnswerColumn
from studio.ui.widgets.token_text import visible

CANDIDATES = 8
_FILLED_STYLE = "background-color: rgba(255, 140, 0, 0.35)"
_HINT = "Each mask's likeliest tokens appear here, with the text read with the likeliest of each."


class MasksColumn(AnswerColumn):
    """Also `chosen(mask index, token text)` when a candidate is clicked."""

    chosen = Signal(int, str)

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.table = QTableWidget(0, 0, objectName=f"{name}Candidates")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setToolTip("The likeliest tokens for each mask, most likely first. Click one to fill that mask "
                              "in; the other masks are then asked again with it in place.")
        self.table.cellClicked.connect(self._clicked)
        # a text has a mask or a few: their columns share the width instead of leaving most of it empty
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.reading = QLabel(_HINT, objectName=f"{name}Reading", wordWrap=True)
        self.reading.setToolTip("The text with every mask filled by its likeliest token (in bold)")
        self.layout_.addWidget(self.reading)
        self.layout_.addWidget(self.table, 1)
        self.layout_.addWidget(self.error)
        self.options = {"top_k": CANDIDATES}

    def show_result(self, filled: Any) -> None:
        masks = filled.masks
        self.table.clear()
        self.table.setColumnCount(len(masks))
        self.table.setRowCount(max((len(m) for m in masks), default=0))
        self.table.setHorizontalHeaderLabels([f"mask {i + 1}" for i in range(len(masks))])
        for column, candidates in enumerate(masks):
            for row, candidate in enumerate(candidates):
                item = QTableWidgetItem(f"{visible(candidate.token)}   {candidate.score:.1%}")
                item.setToolTip(f"token {candidate.id}: {candidate.token!r}")
                self.table.setItem(row, column, item)
        self.reading.setText(best_reading(filled))

    def _clicked(self, row: int, column: int) -> None:
        masks = self.result.masks if self.result else []
        if column < len(masks) and row < len(masks[column]):
            self.chosen.emit(column, masks[column][row].token)

    def empty(self) -> None:
        self.table.setRowCount(0)
        self.reading.setText(_HINT)


def best_reading(filled: Any) -> str:
    """The text as rich text with each mask's likeliest token in bold on orange."""
    shown = "".join(f'<b style="{_FILLED_STYLE}">{html.escape(piece)}</b>' if filled_in else html.escape(piece)
                    for piece, filled_in in filled.best_text())
    return f'<span style="white-space: pre-wrap">{shown}</span>'
