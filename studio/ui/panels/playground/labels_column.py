"""One classifier's answer: the predicted label, and a bar for every label's probability."""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtWidgets import QLabel

from studio.ui.panels.playground.answer_column import AnswerColumn
from studio.ui.widgets.plot_theme import new_plot

_MOST_BARS = 20  # beyond this many labels, the likeliest are shown
_HINT = "Type a text to see every label's probability."


class LabelsColumn(AnswerColumn):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        import pyqtgraph as pg

        self._pg = pg
        self.answer_label = QLabel(_HINT, objectName=f"{name}Answer", wordWrap=True)
        self.answer_label.setStyleSheet("font-size: 15px; font-weight: 600;")
        self.chart = new_plot(f"{name}Chart")
        self.chart.setMenuEnabled(False)
        self.chart.setMouseEnabled(x=False, y=False)
        self.chart.setLabel("bottom", "probability")
        self.chart.getPlotItem().invertY(True)
        self.chart.setXRange(0, 1, padding=0.02)
        self.chart.setToolTip("The model's probability for every label (softmax of its outputs)")
        self.layout_.addWidget(self.answer_label)
        self.layout_.addWidget(self.chart, 1)
        self.layout_.addWidget(self.error)
        self.layout_.addStretch(0)  # holds the hint at the top while the chart is hidden
        self.chart.hide()  # bare axes with no bars read as a broken chart

    def show_result(self, prediction: Any) -> None:
        self.answer_label.setText(f"{prediction.label}  {prediction.score:.1%}")
        names = list(prediction.scores)
        values = np.array([prediction.scores[n] for n in names])
        if len(names) > _MOST_BARS:
            order = np.argsort(-values)[:_MOST_BARS]
            names, values = [names[i] for i in order], values[order]
        plot = self.chart.getPlotItem()
        plot.clear()
        brushes = ["#e0a33a" if n == prediction.label else "#4f8cff" for n in names]
        plot.addItem(self._pg.BarGraphItem(x0=0, y=np.arange(len(names)), height=0.7, width=values, brushes=brushes))
        plot.getAxis("left").setTicks([[(i, n[:18]) for i, n in enumerate(names)]])
        plot.setYRange(-0.5, len(names) - 0.5, padding=0)
        self.chart.show()

    def empty(self) -> None:
        self.answer_label.setText(_HINT)
        self.chart.getPlotItem().clear()
        self.chart.hide()
