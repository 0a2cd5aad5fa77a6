"""One classifier's answer: the predicted label, and a bar for every label's probability.

Asked again as the person types (the panel debounces); each request runs off the UI thread and only
the latest answer is shown.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from studio.ui.jobs import Job
from studio.ui.widgets.messages import ErrorLabel
from studio.ui.widgets.plot_theme import new_plot

_MOST_BARS = 20  # beyond this many labels, the likeliest are shown


class LabelsColumn(QWidget):
    """`finished(Prediction)` when an answer arrives; `failed(str)` on an error."""

    finished = Signal(object)
    failed = Signal(str)

    def __init__(self, name: str) -> None:
        super().__init__()
        self.setObjectName(name)
        import pyqtgraph as pg

        self._pg = pg
        self.title = QLabel("", objectName=f"{name}Title")
        self.answer = QLabel("Type a text to see every label's probability.", objectName=f"{name}Answer",
                             wordWrap=True)
        self.answer.setStyleSheet("font-size: 15px; font-weight: 600;")
        self.chart = new_plot(f"{name}Chart")
        self.chart.setMenuEnabled(False)
        self.chart.setMouseEnabled(x=False, y=False)
        self.chart.setLabel("bottom", "probability")
        self.chart.getPlotItem().invertY(True)
        self.chart.setXRange(0, 1, padding=0.02)
        self.chart.setToolTip("The model's probability for every label (softmax of its outputs)")
        self.error = ErrorLabel(f"{name}Error")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.answer)
        layout.addWidget(self.chart, 1)
        layout.addWidget(self.error)
        self.result: Any = None
        self._job: Job | None = None
        self._pending = 0

    @property
    def running(self) -> bool:
        return self._job is not None and self._job.running

    def ask(self, loaded: Any, text: str) -> None:
        from studio.core.playground.classification import classify

        self._pending += 1
        request = self._pending
        job = Job(lambda progress, control: classify(loaded, text), self)
        self._job = job
        job.done.connect(lambda prediction: request == self._pending and self.show_prediction(prediction))
        job.failed.connect(lambda text_: request == self._pending and self._failed(text_))
        job.start()

    def show_prediction(self, prediction: Any) -> None:
        self.result = prediction
        self.error.clear_message()
        self.answer.setText(f"{prediction.label}  {prediction.score:.1%}")
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
        self.finished.emit(prediction)

    def _failed(self, text: str) -> None:
        self.error.show_message(text)
        self.failed.emit(text)

    def clear(self) -> None:
        self.result = None
        self._pending += 1  # an answer still on its way belongs to the old model
        self.answer.setText("Type a text to see every label's probability.")
        self.chart.getPlotItem().clear()

    def show_model(self, text: str, loaded: Any = None) -> None:
        self.title.setText(f"<b>{text}</b>")
