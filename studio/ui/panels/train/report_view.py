"""An evaluation's report for a classifier: the confusion matrix as a heatmap (rows true, columns
predicted, shaded by the share of each true class), and the misclassified validation rows, most
confident mistakes first, sortable; choosing one opens it in the Playground."""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.ui.widgets.plot_theme import new_plot
from studio.ui.widgets.token_text import fitted_labels

_NUMBERS_UP_TO = 15  # classes; beyond that, counts in every cell are unreadable and only colour is kept


class _Number(QTableWidgetItem):
    """A cell that sorts by its value, not its text."""

    def __init__(self, value: float, text: str) -> None:
        super().__init__(text)
        self.value = value

    def __lt__(self, other: QTableWidgetItem) -> bool:
        return self.value < getattr(other, "value", 0.0)


class ReportView(QWidget):
    row_chosen = Signal(str)  # the text of a misclassified row

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("reportView")
        import pyqtgraph as pg

        self._pg = pg
        self.title = QLabel(objectName="reportTitle", wordWrap=True)
        self.matrix_plot = new_plot("confusionPlot")
        self.matrix_plot.setMenuEnabled(False)
        item = self.matrix_plot.getPlotItem()
        item.invertY(True)
        item.setLabel("bottom", "predicted")
        item.setLabel("left", "true")
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(pg.colormap.get("viridis"))
        item.addItem(self.image)
        self.cells: list[Any] = []
        self.worst = QLabel(objectName="reportWorst", wordWrap=True)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.matrix_plot, 1)
        left_layout.addWidget(self.worst)
        self.table = QTableWidget(0, 4, objectName="misclassifiedTable")
        self.table.setHorizontalHeaderLabels(("Text", "True", "Predicted", "Confidence"))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.setToolTip("Validation rows the model got wrong, most confident first. Double-click (or Enter) "
                              "to try one in the Playground.")
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2, 3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.table.doubleClicked.connect(lambda index: self.choose(index.row()))
        self.table.activated.connect(lambda index: self.choose(index.row()))
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(self.table)
        splitter.setSizes([360, 560])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(splitter, 1)
        self.report: dict[str, Any] = {}
        self.matrix_plot.scene().sigMouseMoved.connect(self._hover)
        self._names: list[str] = []
        # predicted labels sit side by side under the matrix, each cut to the width its column has now (the
        # hover read-out names them in full); the first one reaches left of the matrix, which pyqtgraph would
        # hide as overlapping the left axis
        item.getAxis("bottom").setStyle(hideOverlappingLabels=False)
        item.vb.sigResized.connect(lambda *_: self._bottom_ticks())

    def _bottom_ticks(self) -> None:
        item = self.matrix_plot.getPlotItem()
        item.getAxis("bottom").setTicks([fitted_labels(self._names, item.vb.width())])

    def show_report(self, report: dict[str, Any]) -> None:
        self.report = report
        names = report["confusion_matrix"]["labels"]
        matrix = np.asarray(report["confusion_matrix"]["matrix"], dtype=np.float32)
        rows = matrix.sum(axis=1, keepdims=True)
        shares = np.divide(matrix, rows, out=np.zeros_like(matrix), where=rows > 0)
        self.image.setImage(shares, levels=(0.0, 1.0), autoLevels=False)
        item = self.matrix_plot.getPlotItem()
        self._names = names
        self._bottom_ticks()
        item.getAxis("left").setTicks([[(i + 0.5, n if len(n) <= 16 else n[:15] + "…") for i, n in enumerate(names)]])
        item.setRange(xRange=(0, len(names)), yRange=(0, len(names)), padding=0)
        for cell in self.cells:
            item.removeItem(cell)
        self.cells = []
        if len(names) <= _NUMBERS_UP_TO:
            for (r, c), count in np.ndenumerate(matrix):
                text = self._pg.TextItem(f"{int(count)}", anchor=(0.5, 0.5),
                                         color="#000000" if shares[r, c] > 0.6 else "#ffffff")
                text.setPos(c + 0.5, r + 0.5)
                item.addItem(text)
                self.cells.append(text)
        total = int(matrix.sum())
        self.title.setText(f"<b>Evaluation at step {report.get('step', 0):,}</b>: accuracy {report['accuracy']:.1%}, "
                           f"macro F1 {report['f1']:.3f} on {total:,} validation rows. Rows are the true labels, "
                           "columns the predicted; colour is the share of each true class.")
        per_class = report["per_class"]
        worst = sorted(per_class.items(), key=lambda kv: kv[1]["f1"])[:3]
        self.worst.setText("Weakest classes: " + ", ".join(f"{n} (F1 {s['f1']:.2f}, {s['support']} rows)"
                                                          for n, s in worst))
        mistakes = report.get("misclassified", [])
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(mistakes))
        for row, m in enumerate(mistakes):
            text = QTableWidgetItem(" ".join(m["text"].split())[:200])
            text.setToolTip(m["text"])
            text.setData(Qt.ItemDataRole.UserRole, m["text"])
            self.table.setItem(row, 0, text)
            self.table.setItem(row, 1, QTableWidgetItem(m["true"]))
            self.table.setItem(row, 2, QTableWidgetItem(m["predicted"]))
            self.table.setItem(row, 3, _Number(m["confidence"], f"{m['confidence']:.1%}"))
        self.table.setSortingEnabled(True)
        self.table.sortItems(3, Qt.SortOrder.DescendingOrder)

    def describe(self, row: int, column: int) -> str:
        names = self.report["confusion_matrix"]["labels"]
        count = self.report["confusion_matrix"]["matrix"][row][column]
        stats = self.report["per_class"][names[row]]
        return (f"true {names[row]} → predicted {names[column]}: {count} rows. {names[row]}: precision "
                f"{stats['precision']:.2f}, recall {stats['recall']:.2f}, F1 {stats['f1']:.2f}")

    def _hover(self, pos: Any) -> None:
        if not self.report:
            return
        point = self.matrix_plot.getPlotItem().vb.mapSceneToView(pos)
        n = len(self.report["confusion_matrix"]["labels"])
        row, column = int(point.y()), int(point.x())
        if 0 <= row < n and 0 <= column < n and point.x() >= 0 and point.y() >= 0:
            self.matrix_plot.setToolTip(self.describe(row, column))

    def choose(self, row: int) -> None:
        item = self.table.item(row, 0)
        if item is not None:
            self.row_chosen.emit(item.data(Qt.ItemDataRole.UserRole))
