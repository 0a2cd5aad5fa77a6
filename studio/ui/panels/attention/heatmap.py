"""One attention matrix as an image: tokens on both axes, hover read-out, zoom and pan, colour bar.

pyqtgraph's ImageItem takes the float32 matrix as it is (row-major, explicit levels), so switching
head or layer is one `setImage` of at most T x T values, with no copies through other libraries.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from studio.ui.panels.attention.turn_bands import TurnBands, is_conversation, legend, turn_at
from studio.ui.widgets.plot_theme import new_plot
from studio.ui.widgets.token_text import fitted_ticks, stacked_ticks, visible

COLOUR_MAPS = ("viridis", "inferno", "cividis", "CET-L4")
LOG_FLOOR = 1e-4  # log colour scale: weights below this all look the same


class Heatmap(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("attentionHeatmap")
        import pyqtgraph as pg

        self._pg = pg
        self.plot = new_plot("heatmapPlot")
        self.plot.setMenuEnabled(False)
        item = self.plot.getPlotItem()
        item.invertY(True)  # row 0 (the first token) at the top, as in every attention figure
        item.setAspectLocked(False)
        item.showAxes(True)
        self.image = pg.ImageItem(axisOrder="row-major")
        item.addItem(self.image)
        self.bar = pg.ColorBarItem(values=(0, 1), colorMap=pg.colormap.get("viridis"), interactive=False, width=14)
        self.bar.setImageItem(self.image, insert_in=item)
        self.bar.getAxis("right").enableAutoSIPrefix(False)  # weights read as 0.25, not as 250 with a hidden "m"
        item.vb.sigResized.connect(lambda *_: self._bottom_ticks())
        item.vb.sigYRangeChanged.connect(lambda *_: self._left_ticks())  # zoomed rows have room for more labels
        self.bands = TurnBands(item)
        self.legend = QLabel(objectName="turnLegend", visible=False)
        self.readout = QLabel(_HINT, objectName="heatmapReadout")
        self._cell: tuple[int, int] | None = None  # the cell last hovered
        self.readout.setToolTip("from token → to token: weight (rows attend, columns are attended to)")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.legend)
        layout.addWidget(self.readout)
        self.matrix = np.zeros((1, 1), np.float32)
        self.title = ""
        self.rows: list[str] = []
        self.columns: list[str] = []
        self.log = False
        self.colour_map = "viridis"
        self.plot.scene().sigMouseMoved.connect(self._hover)

    def show_matrix(self, matrix: np.ndarray, rows: list[str], columns: list[str], title: str, log: bool,
                    colour_map: str, turns: list[tuple[str, int, int]] | None = None) -> None:
        """`turns` (role, first token, one past the last) mark a conversation's turns on both axes."""
        turns = list(turns or [])
        new_shape = matrix.shape != self.matrix.shape or turns != self.bands.turns
        self.matrix, self.rows, self.columns, self.log = matrix, rows, columns, log
        peak = float(matrix.max()) if matrix.size else 1.0
        if log:
            data = np.log10(np.maximum(matrix, LOG_FLOOR))
            levels = (math.log10(LOG_FLOOR), math.log10(max(peak, LOG_FLOOR * 10)))
        else:
            data, levels = matrix, (0.0, max(peak, 1e-6))
        self.image.setImage(data, levels=levels, autoLevels=False)
        if colour_map != self.colour_map:
            self.colour_map = colour_map
            self.bar.setColorMap(self._pg.colormap.get(colour_map))
        self.bar.setLevels(levels)
        self.bar.setLabel("right", "log10 weight" if log else "weight")
        item = self.plot.getPlotItem()
        if matrix.size and float(np.ptp(matrix)) < _FLAT:
            # one colour says nothing by itself: a weak model's cross-attention spreads evenly
            title += f" · uniform: every weight {peak:.4f}"
        self.title = title
        self._fit_title()
        if new_shape:
            room = self.bands.show(turns, matrix.shape[0])
            self.legend.setText(legend(turns))
            marked = "The conversation's turns" if is_conversation(turns) else "The two texts the model read"
            self.legend.setToolTip(f"{marked}, marked along both axes; dashed lines where each begins")
            self.legend.setVisible(bool(turns))
            item.setRange(xRange=(-room, matrix.shape[1]), yRange=(-room, matrix.shape[0]), padding=0)
        self._bottom_ticks()
        self._read_out()
        # The view sizes the plot only when the view itself is resized, never below the plot's minimum at
        # that moment; the map built at a wider minimum (longer labels, another title) kept that width,
        # past the view's right edge. Fit it to the view again now that its contents changed.
        item.setGeometry(self.plot.range)

    def _fit_title(self) -> None:
        """The title cut on its left to the map's width, whole in the tooltip. pyqtgraph's title claims its
        text's width as a minimum again on every resize, so a long title (a probe step's, at 1200 px) pushed
        the map's right side and the colour bar with its numbers out of sight."""
        item = self.plot.getPlotItem()
        font = QFont(item.titleLabel.item.font())
        font.setPointSizeF(float(str(item.titleLabel.opts.get("size", "11pt")).removesuffix("pt")))
        others = item.width() - item.vb.width()  # the axes and the colour bar beside the map
        room = max(40, int(self.plot.width() - others - 12))
        shown = QFontMetrics(font).elidedText(self.title, Qt.TextElideMode.ElideLeft, room)
        if shown != item.titleLabel.text:
            item.setTitle(shown)
        self.plot.setToolTip(self.title if shown != self.title else "")

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        if self.title:
            self._fit_title()
            self.plot.getPlotItem().setGeometry(self.plot.range)

    def _read_out(self) -> None:
        """The hovered cell's weight in the map shown now; the hint when that cell is not in it (the read-out
        must never show a weight of a step, head or model no longer on screen)."""
        row, column = self._cell if self._cell else (-1, -1)
        self.readout.setText(self.describe(row, column) if self._inside(row, column) else _HINT)

    def _inside(self, row: int, column: int) -> bool:
        return 0 <= row < self.matrix.shape[0] and 0 <= column < self.matrix.shape[1]

    def _bottom_ticks(self) -> None:
        """Column labels that fit the width the map has now: every k-th token, cut to the room it gets; row
        labels that fit its height."""
        item = self.plot.getPlotItem()
        item.getAxis("bottom").setTicks([fitted_ticks(self.columns, item.vb.width())])
        self._left_ticks()

    def _left_ticks(self) -> None:
        item = self.plot.getPlotItem()
        low, high = item.vb.viewRange()[1]
        item.getAxis("left").setTicks([stacked_ticks(self.rows, item.vb.height() / max(high - low, 1e-3))])

    def _hover(self, pos: Any) -> None:
        point = self.plot.getPlotItem().vb.mapSceneToView(pos)
        row, column = int(math.floor(point.y())), int(math.floor(point.x()))
        if self._inside(row, column):
            self._cell = (row, column)
            self._read_out()

    def describe(self, row: int, column: int) -> str:
        turns = self.bands.turns

        def where(token: int) -> str:
            return f" ({turn_at(turns, token)})" if turns else ""

        return (f"{visible(self.rows[row])} [{row}]{where(row)} → {visible(self.columns[column])} [{column}]"
                f"{where(column)}: {self.matrix[row, column]:.4f}")


_HINT = "Hover the map to read a weight."
_FLAT = 1e-6  # a map whose weights differ by less than this is drawn as one colour
