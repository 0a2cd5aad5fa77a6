"""One tagger's answer: the text with its entity spans coloured by type, a legend, the score of a span
under the mouse, and a table of the entities."""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QToolTip,
)

from studio.ui.panels.playground.answer_column import AnswerColumn
from studio.ui.widgets.entities import colour, legend_html


class _SpanText(QTextBrowser):
    """The tagged text; hovering an entity shows its type and score."""

    def __init__(self, name: str) -> None:
        super().__init__(objectName=name)
        self.setMouseTracking(True)
        self.viewport().setMouseTracking(True)
        self.entities: list[Any] = []

    def entity_at(self, position: int) -> Any:
        return next((e for e in self.entities if e.start <= position < e.end), None)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        found = self.entity_at(self.cursorForPosition(event.position().toPoint()).position())
        if found is not None:
            QToolTip.showText(event.globalPosition().toPoint(), f"{found.label} · {found.score:.1%}", self)
        else:
            QToolTip.hideText()
        super().mouseMoveEvent(event)


class TagsColumn(AnswerColumn):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.legend = QLabel(objectName=f"{name}Legend", wordWrap=True)
        self.text = _SpanText(f"{name}Text")
        self.text.setPlaceholderText("Type a text: its entities are coloured here as you type.")
        self.table = QTableWidget(0, 4, objectName=f"{name}Entities")
        self.table.setHorizontalHeaderLabels(("Entity", "Type", "Score", "Where"))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setToolTip("Every entity found, with the model's score for its first word's tag")
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for widget, stretch in ((self.legend, 0), (self.text, 1), (self.error, 0), (self.table, 1)):
            self.layout_.addWidget(widget, stretch)
        self.kinds: list[str] = []

    def show_model(self, text: str, loaded: Any = None) -> None:
        super().show_model(text)
        if loaded is not None:
            from studio.core.data.tags import entity_types

            self.kinds = entity_types(loaded.labels)
            self.legend.setText(legend_html(self.kinds))

    def show_result(self, result: Any) -> None:
        parts, at = [], 0
        for e in result.entities:
            parts.append(html.escape(result.text[at:e.start]))
            parts.append(f'<span style="background-color:{colour(self.kinds, e.label)}">'
                         f'{html.escape(result.text[e.start:e.end])}<sub> {html.escape(e.label)}</sub></span>')
            at = e.end
        parts.append(html.escape(result.text[at:]))
        self.text.setHtml(f'<div style="white-space: pre-wrap">{"".join(parts)}</div>')
        self.text.entities = self._shown_positions(result)
        self.table.setRowCount(len(result.entities))
        for row, e in enumerate(result.entities):
            # one line a row: an entity over a line break would make its row as tall as the text
            for column, value in enumerate((e.text.replace("\n", " ⏎ "), e.label, f"{e.score:.1%}",
                                            f"{e.start}–{e.end}")):
                self.table.setItem(row, column, QTableWidgetItem(value))

    @staticmethod
    def _shown_positions(result: Any) -> list[Any]:
        """The entities at their places in the shown document, which adds the type after each span."""
        from dataclasses import replace

        shown, extra = [], 0
        for e in result.entities:
            shown.append(replace(e, start=e.start + extra, end=e.end + extra))
            extra += len(f" {e.label}")
        return shown

    def empty(self) -> None:
        self.text.clear()
        self.table.setRowCount(0)
