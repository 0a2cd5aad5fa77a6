"""The text as tokens: click one to pick it; shade the tokens by a weight (where it attends, or what
attends to it), with a bar chart of the same weights beside."""

from __future__ import annotations

import bisect
import html

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase, QMouseEvent
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QTextEdit, QToolTip, QVBoxLayout, QWidget

from studio.ui.widgets.plot_theme import new_plot
from studio.ui.widgets.token_text import fitted_ticks, visible


class TokenStrip(QTextEdit):
    token_clicked = Signal(int)

    def __init__(self, name: str) -> None:
        super().__init__()
        self.setObjectName(name)
        self.setReadOnly(True)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.viewport().setCursor(Qt.CursorShape.PointingHandCursor)
        self.tokens: list[str] = []
        self.weights: np.ndarray | None = None
        self._starts: list[int] = []
        self._key: tuple | None = None
        self.setMouseTracking(True)
        self.viewport().setMouseTracking(True)

    def set_tokens(self, tokens: list[str], weights: np.ndarray | None = None, selected: int | None = None,
                   signed: bool = False) -> None:
        """One setHtml for the whole strip: inserting 512 formatted fragments one by one takes ~100 ms.

        `weights` shade the tokens orange by size; `signed` weights shade green (positive) or red (negative)."""
        pieces = [visible(token) + " " for token in tokens]
        key = (tuple(pieces), None if weights is None else weights.tobytes(), selected, signed)
        if key == self._key:
            return
        self._key = key
        self.tokens = list(tokens)
        self.weights = weights
        self._starts = np.cumsum([0] + [len(p) for p in pieces[:-1]]).tolist() if pieces else []
        size = np.abs(weights) if weights is not None else None
        peak = float(size.max()) if size is not None and size.size and size.max() > 0 else 1.0
        spans = []
        for i, piece in enumerate(pieces):
            style = []
            if weights is not None:
                colour = ("63, 179, 127" if weights[i] >= 0 else "224, 90, 90") if signed else "255, 140, 0"
                style.append(f"background-color: rgba({colour}, {min(1.0, size[i] / peak) * 0.85:.3f})")
            if i == selected:
                style.append("font-weight: 700; text-decoration: underline")
            spans.append(f'<span style="{"; ".join(style)}">{html.escape(piece)}</span>' if style
                         else html.escape(piece))
        self.setHtml(f'<div style="white-space: pre-wrap">{"".join(spans)}</div>')

    def token_at_position(self, position: int) -> int | None:
        index = bisect.bisect_right(self._starts, position) - 1
        return index if 0 <= index < len(self.tokens) else None

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        index = self.token_at_position(self.cursorForPosition(event.position().toPoint()).position())
        if index is not None and self.weights is not None:
            QToolTip.showText(event.globalPosition().toPoint(),
                              f"{visible(self.tokens[index])} [{index}]: {self.weights[index]:+.4f}", self)
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        index = self.token_at_position(self.cursorForPosition(event.position().toPoint()).position())
        if index is not None and event.button() == Qt.MouseButton.LeftButton:
            self.token_clicked.emit(index)
        super().mouseReleaseEvent(event)


class TokenFocus(QWidget):
    """Pick a token; see where it attends ("attends to": its row) or what attends to it (its column)."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("tokenFocus")
        import pyqtgraph as pg

        self._pg = pg
        self.direction = QComboBox(objectName="directionCombo")
        self.direction.addItem("where it attends", "row")
        self.direction.addItem("what attends to it", "column")
        self.direction.setToolTip("Attends to: the chosen token's row of the map. Attended by: its column.")
        self.direction.currentIndexChanged.connect(lambda _: self.refresh())
        self.pick = TokenStrip("tokenPickStrip")
        self.pick.setToolTip("Click a token")
        self.pick.token_clicked.connect(self.choose)
        self.shaded = TokenStrip("tokenShadeStrip")
        self.bars = new_plot("tokenBars")
        self.bars.setMenuEnabled(False)
        self.bars.setMinimumHeight(110)
        self.bars.getAxis("left").enableAutoSIPrefix(False)
        self.bars.getPlotItem().vb.sigResized.connect(lambda *_: self._bar_ticks())
        for strip in (self.pick, self.shaded):
            strip.setMinimumHeight(44)  # two lines of tokens; longer texts scroll
            strip.setMaximumHeight(90)
        self.caption = QLabel("Click a token above.", objectName="tokenFocusCaption")
        top = QHBoxLayout()
        top.addWidget(QLabel("Token:"))
        top.addWidget(self.direction)
        top.addWidget(self.caption, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.pick)
        layout.addWidget(self.shaded)
        layout.addWidget(self.bars, 1)
        layout.addStretch(0)  # holds the strip at the top while the chart is hidden
        self.matrix = np.zeros((0, 0), np.float32)
        self.rows: list[str] = []
        self.columns: list[str] = []
        self.selected: int | None = None

    def set_matrix(self, matrix: np.ndarray, rows: list[str], columns: list[str]) -> None:
        same = rows == self.rows and columns == self.columns
        self.matrix, self.rows, self.columns = matrix, rows, columns
        if not same:
            self.selected = None
        self.refresh()

    def choose(self, index: int) -> None:
        self.selected = index
        self.refresh()

    def weights(self) -> np.ndarray | None:
        if self.selected is None:
            return None
        return self.matrix[self.selected] if self.direction.currentData() == "row" else self.matrix[:, self.selected]

    def refresh(self) -> None:
        by_row = self.direction.currentData() == "row"
        pick_tokens, other = (self.rows, self.columns) if by_row else (self.columns, self.rows)
        if self.selected is not None and self.selected >= len(pick_tokens):
            self.selected = None
        self.pick.set_tokens(pick_tokens, selected=self.selected)
        weights = self.weights()
        self.shaded.set_tokens(other, weights)
        plot = self.bars.getPlotItem()
        plot.clear()
        # until a token is picked there is nothing to shade or chart: an unshaded copy of the text and bare
        # axes read as a result that failed to come
        for view in (self.shaded, self.bars):
            view.setVisible(weights is not None)
        if weights is None:
            self.caption.setText("Click a token above.")
            return
        token = visible(pick_tokens[self.selected])
        self.caption.setText(f"'{token}' [{self.selected}] {'attends to' if by_row else 'is attended by'} "
                             "the tokens shaded below.")
        plot.addItem(self._pg.BarGraphItem(x=np.arange(len(weights)), height=weights, width=0.8, brush="#ff8c00"))
        self._bar_ticks()

    def _bar_ticks(self) -> None:
        other = self.columns if self.direction.currentData() == "row" else self.rows
        item = self.bars.getPlotItem()
        item.getAxis("bottom").setTicks([fitted_ticks(other, item.vb.width(), offset=0.0)])
