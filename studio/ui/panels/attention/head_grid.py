"""Every layer x head at once as thumbnails in one image (a mosaic), clickable, sortable, filterable.

One ImageItem for the whole grid instead of one plot per head: 144 plots take seconds to build, one
image of 144 tiles takes milliseconds. Tiles are ordered by layer, or by a head statistic; heads that
fall below the filter are dimmed, not hidden, so the grid keeps its shape.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QSplitter, QVBoxLayout, QWidget

from studio.ui.widgets.plot_theme import new_plot

_GAP = 2
_DIM = 0.15
_RANGE_PADDING = 0.01
_MIN_WIDTH_PX = 220  # narrow_to_tiles never leaves the grid less than this, however few its heads
_MIN_LABEL_PX = 56  # a tile narrower than this shows its name in the hover tip only
STAT_NAMES = {"entropy": "entropy", "previous": "previous-token share", "first": "first-token share",
              "induction": "induction score"}


def fitted_columns(layers: int, heads: int, tile: tuple[int, int], area: tuple[float, float], free: bool) -> int:
    """How many tiles a row holds so that they are drawn largest in `area` (width, height); `tile` is
    (height, width). In layer order a layer stays whole: its heads split into equal rows, or whole layers
    share a row, so a 2 x 4 model in a tall column and a 30 x 9 one in a wide one both fill it. Sorted
    tiles (`free`) may wrap anywhere. A tie keeps one layer per row, the plainest reading."""
    count = layers * heads
    if free:
        options = set(range(1, count + 1))
    else:
        options = {heads // k for k in range(1, heads + 1) if heads % k == 0}
        options |= {heads * m for m in range(1, layers + 1)}

    def scale(columns: int) -> float:
        rows = math.ceil(count / columns)
        return min(area[0] / (columns * tile[1]), area[1] / (rows * tile[0]))

    return max(options, key=lambda c: (round(scale(c), 6), c == heads))


def _layout_words(heads: int, columns: int) -> str:
    if columns == heads:
        return "rows are layers, columns heads"
    if columns < heads:
        return f"each layer takes {heads // columns} rows"
    return f"each row holds {columns // heads} layers"


class HeadGrid(QWidget):
    head_chosen = Signal(int, int)  # layer, head

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("headGrid")
        import pyqtgraph as pg

        self.plot = new_plot("headGridPlot")
        self.plot.setMenuEnabled(False)
        item = self.plot.getPlotItem()
        item.invertY(True)
        item.setAspectLocked(True)
        item.hideAxis("bottom")
        item.hideAxis("left")
        self._pg = pg
        self.labels: list[Any] = []
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(pg.colormap.get("viridis"))
        item.addItem(self.image)
        self.info = QLabel("Every layer and head; click one to open it.", objectName="headGridInfo", wordWrap=True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.info)
        self.order: list[tuple[int, int]] = []
        self.columns = 1
        self.tile = (1, 1)  # height, width of a tile and its gap
        self.stats: dict[str, np.ndarray] = {}
        self.marked: tuple[int, int] | None = None  # the head open in the map, outlined in the grid
        self._shown: tuple[Any, ...] | None = None  # show_heads' arguments, to lay the tiles out again on resize
        self._narrowed: tuple[int, ...] | None = None  # the thumbnails' shape narrow_to_tiles last fitted
        self._outline = pg.QtWidgets.QGraphicsRectItem()
        self._outline.setPen(pg.mkPen("#ff4d4d", width=2, cosmetic=True))
        self._outline.setZValue(10)
        self._outline.hide()
        item.addItem(self._outline)
        self.plot.scene().sigMouseClicked.connect(self._clicked)
        self.plot.scene().sigMouseMoved.connect(self._hover)

    def show_heads(self, thumbs: np.ndarray, stats: dict[str, np.ndarray], sort: str | None = None,
                   threshold: float | None = None) -> None:
        """`thumbs` [layers, heads, s, s] in 0..1; `sort` a key of `stats` (descending) or None for layers."""
        self._shown = (thumbs, stats, sort, threshold)
        layers, heads, height, width = thumbs.shape  # cross-attention tiles are not square
        self.stats, self.tile = stats, (height + _GAP, width + _GAP)
        self.columns = fitted_columns(layers, heads, self.tile, self._area(), free=sort is not None)
        pairs = [(layer, head) for layer in range(layers) for head in range(heads)]
        if sort:
            values = stats[sort]
            pairs.sort(key=lambda p: -np.nan_to_num(values[p], nan=-np.inf))
        self.order = pairs
        rows = math.ceil(len(pairs) / self.columns)
        mosaic = np.full((rows * self.tile[0], self.columns * self.tile[1]), np.nan, dtype=np.float32)
        for i, (layer, head) in enumerate(pairs):
            r, c = divmod(i, self.columns)
            tile = thumbs[layer, head]
            if threshold is not None and sort and not (stats[sort][layer, head] >= threshold):
                tile = tile * _DIM
            top, left = r * self.tile[0], c * self.tile[1]
            mosaic[top:top + height, left:left + width] = tile
        self.image.setImage(mosaic, levels=(0.0, 1.0), autoLevels=False)
        self._label_tiles(sort)
        self.plot.getPlotItem().setRange(xRange=(0, mosaic.shape[1]), yRange=(0, mosaic.shape[0]),
                                         padding=_RANGE_PADDING)
        how = f"sorted by {STAT_NAMES[sort]}, highest first" if sort else _layout_words(heads, self.columns)
        self.info.setText(f"{layers} layers × {heads} heads, {how}. Click a head to open it; the one open is "
                          "outlined.")
        self.mark(self.marked)

    def narrow_to_tiles(self) -> None:
        """Give the map the width the tiles leave unused in the splitter holding the grid, once for each
        model's shape of layers and heads: a splitter the person dragged since is theirs."""
        splitter = self.parentWidget()
        shape = self._shown[0].shape if self._shown is not None else None
        if not isinstance(splitter, QSplitter) or shape is None or shape == self._narrowed:
            return
        sizes = splitter.sizes()
        if not sum(sizes):  # not laid out yet (hidden): fitted when it is drawn shown
            return
        self._narrowed = shape
        index = splitter.indexOf(self)  # the map is the splitter's other widget
        width = min(sizes[index], max(_MIN_WIDTH_PX, self.used_width()))
        sizes[1 - index] += sizes[index] - width
        sizes[index] = width
        splitter.setSizes(sizes)

    def used_width(self) -> int:
        """The width the tiles take at the grid's height: less than it has when a few heads are laid out
        in a tall area, so the panel can give the rest to the map."""
        rows = math.ceil(len(self.order) / max(1, self.columns))
        width, height = self._area()
        scale = min(width / (self.columns * self.tile[1]), height / (max(1, rows) * self.tile[0]))
        padding = 1 + 2 * _RANGE_PADDING  # show_heads' view range pads the mosaic on both sides
        return math.ceil(self.columns * self.tile[1] * scale * padding) + (self.width() - int(width))

    def _area(self) -> tuple[float, float]:
        return max(1, self.plot.width()), max(1, self.plot.height())

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        if self._shown is None:
            return
        thumbs, _, sort, _ = self._shown
        layers, heads = thumbs.shape[:2]
        columns = fitted_columns(layers, heads, self.tile, self._area(), free=sort is not None)
        if columns != self.columns or self._labels_fit(columns) != bool(self.labels):
            self.show_heads(*self._shown)

    def _labels_fit(self, columns: int) -> bool:
        return self.plot.width() / max(1, columns) >= _MIN_LABEL_PX

    def mark(self, chosen: tuple[int, int] | None) -> None:
        """Outline the head open in the map (none for a combination of heads)."""
        self.marked = chosen
        if chosen is None or chosen not in self.order:
            self._outline.hide()
            return
        r, c = divmod(self.order.index(chosen), self.columns)
        height, width = self.tile[0] - _GAP, self.tile[1] - _GAP
        self._outline.setRect(c * self.tile[1] - 0.5, r * self.tile[0] - 0.5, width + 1, height + 1)
        self._outline.show()

    def _label_tiles(self, sort: str | None) -> None:
        """"L3 H7" on each tile, with its score when sorted by one; only where tiles are wide enough for it
        (a 12 x 12 grid in a narrow column keeps the names in the hover tip)."""
        item = self.plot.getPlotItem()
        for label in self.labels:
            item.removeItem(label)
        self.labels = []
        if not self._labels_fit(self.columns):
            return
        font = QFont()
        font.setPointSize(7)
        for i, (layer, head) in enumerate(self.order):
            r, c = divmod(i, self.columns)
            text = f"L{layer} H{head}"
            if sort and np.isfinite(self.stats[sort][layer, head]):
                text += f" {self.stats[sort][layer, head]:.2f}"
            label = self._pg.TextItem(text, color="#ffffff", fill=(0, 0, 0, 140), anchor=(0, 0))
            label.setFont(font)
            label.setPos(c * self.tile[1], r * self.tile[0])
            item.addItem(label)
            self.labels.append(label)

    def head_at(self, x: float, y: float) -> tuple[int, int] | None:
        if x < 0 or y < 0:
            return None
        r, c = int(y // self.tile[0]), int(x // self.tile[1])
        i = r * self.columns + c
        if c >= self.columns or i >= len(self.order):
            return None
        return self.order[i]

    def describe(self, layer: int, head: int) -> str:
        parts = [f"layer {layer}, head {head}"]
        for key, name in STAT_NAMES.items():
            value = self.stats.get(key, np.full((layer + 1, head + 1), np.nan))[layer, head]
            parts.append(f"{name} {value:.2f}" if np.isfinite(value) else f"{name} –")
        return " · ".join(parts)

    def _scene_to_head(self, pos: Any) -> tuple[int, int] | None:
        point = self.plot.getPlotItem().vb.mapSceneToView(pos)
        return self.head_at(point.x(), point.y())

    def _clicked(self, event: Any) -> None:
        chosen = self._scene_to_head(event.scenePos())
        if chosen is not None:
            self.head_chosen.emit(*chosen)

    def _hover(self, pos: Any) -> None:
        chosen = self._scene_to_head(pos)
        if chosen is not None:
            self.plot.setToolTip(self.describe(*chosen))
