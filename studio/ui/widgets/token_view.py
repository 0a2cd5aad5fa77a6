"""Generated text that streams in, then shows each token coloured by how likely the model found it.

Hovering a token shows the model's top alternatives there; clicking opens them as a menu, and
choosing one emits `alternative_chosen(index, token_id)` so the caller regenerates from that point.
Character ranges of the tokens are kept beside the document, so finding the token under the mouse is
a bisect rather than anchors in rich text.
"""

from __future__ import annotations

import bisect
import html
import math
from typing import Any

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QColor, QFontDatabase, QMouseEvent, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QMenu, QTextEdit, QToolTip

from studio.ui.widgets.token_text import visible


def probability_colour(p: float) -> QColor:
    """Red (unlikely) through amber to green (certain), translucent so text stays readable."""
    colour = QColor.fromHsvF(max(0.0, min(1.0, p)) * 0.33, 0.75, 0.95)
    colour.setAlphaF(0.45)
    return colour


class TokenView(QTextEdit):
    alternative_chosen = Signal(int, int)

    def __init__(self, name: str) -> None:
        super().__init__()
        self.setObjectName(name)
        self.setReadOnly(True)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))  # token edges line up
        self.setMouseTracking(True)
        self.viewport().setMouseTracking(True)
        self.tokens: list[Any] = []
        self._starts: list[int] = []
        self._ends: list[int] = []
        self._base = 0  # characters of the document before the first token (the prompt)

    def start(self, prefix: str = "") -> None:
        """Clear, then show `prefix` (the prompt of a language model) plainly before the output."""
        self.clear()
        self.tokens, self._starts, self._ends = [], [], []
        cursor = self.textCursor()
        fmt = QTextCharFormat()
        fmt.setForeground(self.palette().placeholderText())
        cursor.insertText(prefix, fmt)
        self._base = len(prefix)

    def append(self, text: str) -> None:
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(text, QTextCharFormat())
        self.ensureCursorVisible()

    def show_tokens(self, tokens: list[Any], coloured: bool) -> None:
        """Lay the finished tokens out again, coloured by probability when `coloured`."""
        cursor = QTextCursor(self.document())
        cursor.setPosition(self._base)
        cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        self.tokens, self._starts, self._ends = list(tokens), [], []
        position = self._base
        for token in tokens:
            fmt = QTextCharFormat()
            if coloured and token.logprob is not None:
                fmt.setBackground(probability_colour(math.exp(token.logprob)))
            cursor.insertText(token.text, fmt)
            self._starts.append(position)
            position += len(token.text)
            self._ends.append(position)

    def token_at(self, point: QPoint) -> int | None:
        position = self.cursorForPosition(point).position()
        rect = self.cursorRect(self.cursorForPosition(point))
        if abs(rect.center().y() - point.y()) > rect.height():
            return None  # below the last line
        index = bisect.bisect_right(self._starts, position) - 1
        # the cursor position sits between characters; the token is the one whose span holds it
        if 0 <= index < len(self.tokens) and (self._starts[index] <= position < self._ends[index] or
                                               (position == self._ends[index] and index == len(self.tokens) - 1)):
            return index
        return None

    def alternatives_html(self, index: int) -> str:
        token = self.tokens[index]
        p = math.exp(token.logprob) if token.logprob is not None else float("nan")
        rows = "".join(f"<tr><td>{'▶ ' if a.id == token.id else ''}{html.escape(visible(a.text))}</td>"
                       f"<td align='right'>{math.exp(a.logprob):.1%}</td></tr>" for a in token.alternatives)
        return (f"<b>{html.escape(visible(token.text))}</b> {p:.1%}<br><table>{rows}</table>"
                "<i>Click to continue from another choice</i>")

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        index = self.token_at(event.position().toPoint())
        if index is not None and self.tokens[index].alternatives:
            QToolTip.showText(event.globalPosition().toPoint(), self.alternatives_html(index), self)
        else:
            QToolTip.hideText()
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        index = self.token_at(event.position().toPoint())
        if event.button() == Qt.MouseButton.LeftButton and index is not None and not self.textCursor().hasSelection():
            menu = self.alternatives_menu(index)
            if menu is not None:
                menu.popup(event.globalPosition().toPoint())
        super().mouseReleaseEvent(event)

    def alternatives_menu(self, index: int) -> QMenu | None:
        token = self.tokens[index]
        others = [a for a in token.alternatives if a.id != token.id]
        if not others:
            return None
        menu = QMenu(self)
        menu.setObjectName("alternativesMenu")
        menu.addSection(f"Continue from token {index + 1} with…")
        for alt in others:
            action = menu.addAction(f"{visible(alt.text)}    {math.exp(alt.logprob):.1%}")
            action.triggered.connect(lambda _=False, i=index, a=alt.id: self.alternative_chosen.emit(i, a))
        return menu
