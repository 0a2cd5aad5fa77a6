"""A run's curves: training and validation loss, the task's headline metrics beside them, and the
learning rate; drawn from growing arrays with peak downsampling and clipping (DESIGN.md, Live plots)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QSlider, QSplitter, QVBoxLayout, QWidget

from studio.core.runs.smoothing import ema
from studio.ui.widgets.plot_theme import new_plot

_METRIC_COLOURS = ("#3fb37f", "#c65bd1", "#e05a5a", "#37b6c4")
_MIN_PLOT_HEIGHT = 120  # a metrics plot with its legend and axis labels readable
_OVERLAY_COLOURS = ("#c65bd1", "#37b6c4", "#e05a5a", "#8c8c8c", "#b5a33f")


class Series:
    """One run's curves as growing lists: training rows, and every validation metric by name."""

    def __init__(self) -> None:
        self.train: dict[str, list[float]] = {"step": [], "time": [], "tokens": [], "loss": [], "lr": [],
                                              "grad_norm": []}
        self.evals: dict[str, dict[str, list[float]]] = {}
        self._t0: float | None = None
        self._last_t: float | None = None
        self._tokens = 0.0

    @property
    def train_loss(self) -> list[float]:
        return self.train["loss"]

    def add(self, step: int, t: float, values: dict[str, float | None]) -> None:
        if self._t0 is None:
            self._t0 = t
        rel = t - self._t0
        if "train_loss" in values:
            tps = values.get("tokens_per_second") or 0.0
            if self._last_t is not None:
                self._tokens += tps * (t - self._last_t)
            self._last_t = t
            loss = values["train_loss"]
            for key, value in (("step", step), ("time", rel), ("tokens", self._tokens),
                               ("loss", loss if loss is not None else math.nan), ("lr", values.get("learning_rate") or 0.0),
                               ("grad_norm", _number(values.get("grad_norm")))):
                self.train[key].append(value)
        for name, value in values.items():
            if name.startswith("eval_") and value is not None:
                curve = self.evals.setdefault(name, {"step": [], "time": [], "tokens": [], "value": []})
                for key, v in (("step", step), ("time", rel), ("tokens", self._tokens), ("value", value)):
                    curve[key].append(v)

    def losses(self) -> list[dict[str, float]]:
        """Training loss by step, with the validation loss where there was an evaluation (what
        summary.overfitting reads)."""
        rows = {s: {"step": s, "train_loss": v} for s, v in zip(self.train["step"], self.train["loss"], strict=True)}
        evaluated = self.evals.get("eval_loss", {"step": [], "value": []})
        for s, v in zip(evaluated["step"], evaluated["value"], strict=True):
            rows.setdefault(s, {"step": s})["eval_loss"] = v
        return [rows[s] for s in sorted(rows)]

    @classmethod
    def from_history(cls, history: list[dict[str, Any]]) -> Series:
        series = cls()
        for row in history:
            series.add(int(row["step"]), float(row.get("time") or 0.0), row)
        return series

    def train_x(self, axis: str) -> np.ndarray:
        return np.asarray(self.train[axis], dtype=np.float64)

    def eval_xy(self, name: str, axis: str) -> tuple[np.ndarray, np.ndarray]:
        curve = self.evals.get(name, {"value": [], axis: []})
        return np.asarray(curve[axis], dtype=np.float64), np.asarray(curve["value"], dtype=np.float64)

    def last(self, name: str) -> float | None:
        curve = self.evals.get(name)
        return curve["value"][-1] if curve and curve["value"] else None


def _number(value: Any) -> float:
    return float(value) if value is not None else math.nan


class Curves(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("curves")
        import pyqtgraph as pg

        self._pg = pg
        self.series = Series()
        self.overlays: dict[str, Series] = {}
        self._spanned: set[Any] = set()  # plots given an x range by hand while they had a single point
        self.other_tasks: dict[str, str] = {}  # overlaid runs of another task, by name: their loss only
        self.headline: tuple[Any, ...] = ()
        self.smoothing = QSlider(Qt.Orientation.Horizontal, objectName="smoothingSlider", minimum=0, maximum=99,
                                 value=60)
        self.smoothing.setToolTip("Smoothing of the training loss (debiased moving average); the raw curve "
                                  "stays faint underneath")
        self.log_scale = QCheckBox("Log scale", objectName="logScaleCheck", toolTip="Loss on a log axis")
        self.x_axis = QComboBox(objectName="xAxisCombo", toolTip="Plot against steps, tokens seen or time")
        for label, value in (("Step", "step"), ("Tokens", "tokens"), ("Time (s)", "time")):
            self.x_axis.addItem(label, value)
        view = QHBoxLayout()
        view.addWidget(QLabel("Smoothing"))
        view.addWidget(self.smoothing, 1)
        view.addWidget(self.log_scale)
        view.addWidget(QLabel("X axis"))
        view.addWidget(self.x_axis)
        self.lower = QComboBox(objectName="lowerPlotCombo", toolTip="What the small plot under the loss shows: the "
                               "schedule's learning rate, or the gradient norm before clipping (spikes warn of "
                               "instability)")
        for label, value in (("Learning rate", "lr"), ("Gradient norm", "grad_norm")):
            self.lower.addItem(label, value)
        view.addWidget(self.lower)
        for signal in (self.smoothing.valueChanged, self.log_scale.toggled, self.x_axis.currentIndexChanged,
                       self.lower.currentIndexChanged):
            signal.connect(self.redraw)

        self.loss_plot = self._plot("lossPlot", "loss")
        self.loss_plot.addLegend(offset=(-10, 10))
        item = self.loss_plot.getPlotItem()
        self.raw_curve = item.plot(pen=pg.mkPen((79, 140, 255, 70)))
        self.train_curve = item.plot(pen=pg.mkPen("#4f8cff", width=2), name="train")
        self.val_curve = item.plot(pen=pg.mkPen("#e0a33a", width=2), symbol="o", symbolSize=6,
                                   symbolBrush="#e0a33a", name="validation")
        self.best_marker = item.plot(pen=None, symbol="star", symbolSize=16, symbolBrush="#e0a33a",
                                     symbolPen=pg.mkPen("#7a4f00"), name="best validation")
        # shares (accuracies, in 0..1) and other values (rewards, perplexities) on plots of their own, so
        # neither flattens the other; a task whose metrics are all of one kind uses the first alone
        self.metrics_plot = self._plot("metricsPlot", "")
        self.values_plot = self._plot("valuesPlot", "")
        for plot in (self.metrics_plot, self.values_plot):
            plot.addLegend(offset=(-10, -10))
            plot.getAxis("left").enableAutoSIPrefix(False)
        self.metric_curves: dict[str, Any] = {}
        self._plot_of: dict[str, Any] = {}  # metric name -> the plot that draws it
        self.lr_plot = self._plot("lrPlot", "")
        self.lr_plot.getAxis("left").enableAutoSIPrefix(False)
        # no title: its row took a third of the plot, leaving the axis numbers on top of each other; the left axis
        # says what it draws, as the combo box above does
        self.lr_plot.setMinimumHeight(110)
        self.lr_plot.setMaximumHeight(150)
        self.lr_plot.setXLink(self.loss_plot)  # same width as the loss plot above it, so steps line up
        self.lr_curve = self.lr_plot.getPlotItem().plot(pen=pg.mkPen("#3fb37f", width=2))
        self.overlay_curves: dict[str, Any] = {}
        self.overlay_metric_curves: dict[tuple[str, str], tuple[Any, Any]] = {}  # (run, metric) -> (plot, curve)
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.loss_plot)
        left.addWidget(self.lr_plot)
        left.setStretchFactor(0, 3)
        left.setStretchFactor(1, 1)
        plots = QSplitter(Qt.Orientation.Horizontal, objectName="curvesSplitter")
        right = self.right = QSplitter(Qt.Orientation.Vertical, objectName="metricsSplitter")
        right.addWidget(self.metrics_plot)
        right.addWidget(self.values_plot)
        for plot in (self.metrics_plot, self.values_plot):
            plot.setMinimumHeight(_MIN_PLOT_HEIGHT)
        plots.addWidget(left)
        plots.addWidget(right)
        plots.setStretchFactor(0, 3)
        plots.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(view)
        layout.addWidget(plots, 1)

    def _plot(self, name: str, label: str) -> Any:
        plot = new_plot(name)
        plot.showGrid(x=True, y=True, alpha=0.2)
        plot.getAxis("left").setWidth(56)
        if label:
            plot.setLabel("left", label)
        item = plot.getPlotItem()
        item.setClipToView(True)
        item.setDownsampling(auto=True, mode="peak")
        return plot

    def set_headline(self, metrics: tuple[Any, ...]) -> None:
        """The task's headline metrics get a curve each beside the loss: shares on one plot, other values on
        another when a task has both."""
        if metrics == self.headline:
            return
        self.headline = metrics
        for name, curve in self.metric_curves.items():
            self._plot_of[name].getPlotItem().removeItem(curve)
        self.metric_curves, self._plot_of = {}, {}
        split = len({m.share for m in metrics}) == 2
        for i, metric in enumerate(metrics):
            plot = self.values_plot if split and not metric.share else self.metrics_plot
            colour = _METRIC_COLOURS[i % len(_METRIC_COLOURS)]
            self._plot_of[metric.name] = plot
            self.metric_curves[metric.name] = plot.getPlotItem().plot(
                pen=self._pg.mkPen(colour, width=2), symbol="o", symbolSize=5, symbolBrush=colour)
        for plot in (self.metrics_plot, self.values_plot):
            group = [m for m in metrics if self._plot_of[m.name] is plot]
            plot.getPlotItem().legend.clear()
            for metric in group:
                plot.getPlotItem().legend.addItem(self.metric_curves[metric.name], metric.title)
            plot.setLabel("left", " / ".join(m.title for m in group) if len(group) < 3 else "")
            # shares follow their values (a climb from 2% to 9% must show) but never leave 0..1
            all_shares = bool(group) and all(m.share for m in group)
            plot.setLimits(yMin=-0.02 if all_shares else None, yMax=1.02 if all_shares else None)
            plot.enableAutoRange(axis="y")
            plot.setVisible(bool(group))
        # a plot shown again after a task that hid it gets its share back (a splitter keeps a hidden one at 0)
        self.right.setSizes([1000 if plot.isVisibleTo(self) else 0 for plot in (self.metrics_plot, self.values_plot)])
        self.redraw()

    def fresh_axes(self) -> None:
        """Axes for a run not drawn yet: autorange keeps the last range until data comes, which showed the
        previous run's axes under a new run, so a plain unit range stands until the first points."""
        self._spanned.clear()
        for plot in (self.loss_plot, self.metrics_plot, self.values_plot, self.lr_plot):
            plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
            plot.enableAutoRange()

    def _span(self, plot: Any, xs: Any) -> None:
        """A plot with one point (or none) would get an axis a step wide around it (99.6 to 100.4): give it one
        from 0 to past the point instead, and hand the axis back to autorange once there are two points."""
        unique = np.unique(np.asarray(xs, dtype=np.float64))
        unique = unique[np.isfinite(unique)]
        if len(unique) == 1:
            plot.setXRange(0, max(float(unique[0]) * 1.25, 1.0), padding=0)
            self._spanned.add(plot)
        elif len(unique) > 1 and plot in self._spanned:
            self._spanned.discard(plot)
            plot.enableAutoRange(axis="x")

    def set_series(self, series: Series) -> None:
        self.series = series
        self.redraw()

    def set_overlays(self, runs: dict[str, list[dict[str, Any]]], other_tasks: dict[str, str] | None = None) -> None:
        """Runs drawn dashed over this one; a run of another task (`other_tasks`: name -> its task) is drawn by its
        loss alone and labelled so, as its metrics are not this run's."""
        self.overlays = {name: Series.from_history(h) for name, h in runs.items()}
        self.other_tasks = dict(other_tasks or {})
        for curve in self.overlay_curves.values():
            self.loss_plot.removeItem(curve)  # drawn again with the names they have now
        self.overlay_curves = {}
        self.redraw()

    def redraw(self, *_: Any) -> None:
        axis = self.x_axis.currentData()
        weight = self.smoothing.value() / 100
        for plot in (self.loss_plot, self.metrics_plot, self.values_plot, self.lr_plot):
            plot.setLabel("bottom", self.x_axis.currentText().lower())
        self.loss_plot.setLogMode(y=self.log_scale.isChecked())
        s = self.series
        loss = np.asarray(s.train["loss"], dtype=np.float64)
        x = s.train_x(axis)
        self.raw_curve.setData(x, loss)
        for plot in (self.loss_plot, self.lr_plot):
            self._span(plot, x)
        self.train_curve.setData(x, ema(loss, weight))
        self.val_curve.setData(*s.eval_xy("eval_loss", axis))
        lower = self.lower.currentData()
        self.lr_plot.setLabel("left", {"lr": "lr", "grad_norm": "grad norm"}[lower])
        self.lr_curve.setData(x, np.asarray(s.train[lower], dtype=np.float64), connect="finite")
        xs, ys = s.eval_xy("eval_loss", axis)
        best = int(np.nanargmin(ys)) if len(ys) and np.isfinite(ys).any() else None
        self.best_marker.setData([xs[best]] if best is not None else [], [ys[best]] if best is not None else [])
        for name, curve in self.metric_curves.items():
            curve.setData(*s.eval_xy(name, axis))
        for plot in (self.metrics_plot, self.values_plot):
            names = [n for n, shown in self._plot_of.items() if shown is plot]
            self._span(plot, np.concatenate([np.asarray(s.eval_xy(n, axis)[0], dtype=np.float64) for n in names])
                       if names else [])
        for name in set(self.overlay_curves) - set(self.overlays):
            self.loss_plot.removeItem(self.overlay_curves.pop(name))
        for key in [k for k in self.overlay_metric_curves if k[0] not in self.overlays or
                    k[1] not in self.metric_curves]:
            plot, curve = self.overlay_metric_curves.pop(key)
            plot.removeItem(curve)
        for i, (name, other) in enumerate(self.overlays.items()):
            pen = self._pg.mkPen(_OVERLAY_COLOURS[i % len(_OVERLAY_COLOURS)], width=1.5, style=Qt.PenStyle.DashLine)
            curve = self.overlay_curves.get(name)
            if curve is None:
                other_task = self.other_tasks.get(name)
                label = f"{name} ({other_task}, another task: loss only)" if other_task else name
                curve = self.loss_plot.getPlotItem().plot(pen=pen, name=label)
                self.overlay_curves[name] = curve
            curve.setData(other.train_x(axis), ema(np.asarray(other.train["loss"], dtype=np.float64), weight))
            if name in self.other_tasks:
                continue
            for metric in self.headline:  # the task's metrics of the other run, dashed beside this run's
                key = (name, metric.name)
                if key not in self.overlay_metric_curves:
                    plot = self._plot_of[metric.name]
                    self.overlay_metric_curves[key] = (plot, plot.getPlotItem().plot(
                        pen=pen, symbol="t", symbolSize=5, symbolBrush=pen.color(), name=f"{name} · {metric.title}"))
                self.overlay_metric_curves[key][1].setData(*other.eval_xy(metric.name, axis))
