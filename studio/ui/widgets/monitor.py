"""The live training monitor: loss curves, learning rate, throughput, memory, ETA and run controls.

Events arrive in a deque filled by the training thread; a 10 Hz timer drains it and redraws with
`setData` on growing arrays, downsampled by peak and clipped to view (DESIGN.md, Live plots).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QGridLayout, QHBoxLayout, QLabel, QProgressBar, QPushButton,
                               QSlider, QVBoxLayout, QWidget)

from studio.core.runs.smoothing import ema
from studio.ui.widgets.messages import ErrorLabel
from studio.ui.widgets.plot_theme import new_plot

_DRAIN_MS = 100
_OVERLAY_COLOURS = ("#e0a33a", "#3fb37f", "#c65bd1", "#37b6c4", "#e05a5a")


class Series:
    """One run's curves as growing lists (step, wall seconds, cumulative tokens, values)."""

    def __init__(self) -> None:
        self.train_step: list[float] = []
        self.train_time: list[float] = []
        self.train_tokens: list[float] = []
        self.train_loss: list[float] = []
        self.eval_step: list[float] = []
        self.eval_time: list[float] = []
        self.eval_tokens: list[float] = []
        self.eval_loss: list[float] = []
        self.lr: list[float] = []
        self._t0: float | None = None
        self._last_t: float | None = None
        self._tokens = 0.0

    def add(self, step: int, t: float, values: dict[str, float | None]) -> None:
        if self._t0 is None:
            self._t0 = t
        rel = t - self._t0
        if "train_loss" in values:
            tps = values.get("tokens_per_second") or 0.0
            if self._last_t is not None:
                self._tokens += tps * (t - self._last_t)
            self._last_t = t
            self.train_step.append(step)
            self.train_time.append(rel)
            self.train_tokens.append(self._tokens)
            loss = values["train_loss"]
            self.train_loss.append(loss if loss is not None else math.nan)
            self.lr.append(values.get("learning_rate") or 0.0)
        if "eval_loss" in values and values["eval_loss"] is not None:
            self.eval_step.append(step)
            self.eval_time.append(rel)
            self.eval_tokens.append(self._tokens)
            self.eval_loss.append(values["eval_loss"])

    @classmethod
    def from_history(cls, history: list[dict[str, Any]]) -> Series:
        series = cls()
        for row in history:
            series.add(int(row["step"]), float(row.get("time") or 0.0), row)
        return series

    def x(self, axis: str, kind: str) -> np.ndarray:
        return np.asarray(getattr(self, f"{kind}_{axis}"), dtype=np.float64)


class Monitor(QWidget):
    pause_toggled = Signal(bool)
    stop_requested = Signal()
    save_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("monitor")
        import pyqtgraph as pg

        self._pg = pg
        self.series = Series()
        self.overlays: dict[str, Series] = {}
        self.thread: Any = None
        self.planned = 0
        self._rate: tuple[float, int] | None = None
        self._build(pg)
        self.timer = QTimer(self, interval=_DRAIN_MS)
        self.timer.timeout.connect(self.drain)

    def _build(self, pg: Any) -> None:
        self.status = QLabel("No run yet.", objectName="monitorStatus", wordWrap=True)
        self.error = ErrorLabel("monitorError")
        self.progress = QProgressBar(objectName="monitorProgress")
        self.pause = QPushButton("Pause", objectName="pauseButton", checkable=True, enabled=False)
        self.pause.setToolTip("Pause after the current step; the model and optimizer stay in memory")
        self.pause.toggled.connect(self._pause_toggled)
        self.stop = QPushButton("Stop", objectName="stopButton", enabled=False, clicked=lambda: self.stop_requested.emit())
        self.stop.setToolTip("Save a checkpoint and end the run; you can resume it later")
        self.save_now = QPushButton("Save Now", objectName="saveNowButton", enabled=False,
                                    clicked=lambda: self.save_requested.emit())
        self.save_now.setToolTip("Write a checkpoint after the current step and keep training")
        buttons = QHBoxLayout()
        for w in (self.progress, self.pause, self.save_now, self.stop):
            buttons.addWidget(w, 1 if w is self.progress else 0)

        self.labels = {}
        grid = QGridLayout()
        for i, (key, title) in enumerate([("step", "Step"), ("eta", "ETA"), ("tps", "Tokens/s"),
                                          ("memory", "Memory"), ("lr", "Learning rate"), ("val", "Val loss")]):
            name = QLabel(title)
            value = QLabel("–", objectName=f"monitor_{key}")
            value.setStyleSheet("font-weight: 600;")
            grid.addWidget(name, 0, i)
            grid.addWidget(value, 1, i)
            self.labels[key] = value

        self.smoothing = QSlider(Qt.Orientation.Horizontal, objectName="smoothingSlider", minimum=0, maximum=99,
                                 value=60)
        self.smoothing.setToolTip("Smoothing of the training loss (debiased moving average); the raw curve "
                                  "stays faint underneath")
        self.log_scale = QCheckBox("Log scale", objectName="logScaleCheck")
        self.x_axis = QComboBox(objectName="xAxisCombo")
        for label, value in (("Step", "step"), ("Tokens", "tokens"), ("Time (s)", "time")):
            self.x_axis.addItem(label, value)
        view = QHBoxLayout()
        view.addWidget(QLabel("Smoothing"))
        view.addWidget(self.smoothing, 1)
        view.addWidget(self.log_scale)
        view.addWidget(QLabel("X axis"))
        view.addWidget(self.x_axis)
        for signal in (self.smoothing.valueChanged, self.log_scale.toggled, self.x_axis.currentIndexChanged):
            signal.connect(self.redraw)

        self.loss_plot = new_plot("lossPlot")
        self.loss_plot.setLabel("left", "loss")
        self.loss_plot.addLegend(offset=(-10, 10))
        self.loss_plot.showGrid(x=True, y=True, alpha=0.2)
        item = self.loss_plot.getPlotItem()
        item.setClipToView(True)
        item.setDownsampling(auto=True, mode="peak")
        self.raw_curve = item.plot(pen=pg.mkPen((79, 140, 255, 70)))
        self.train_curve = item.plot(pen=pg.mkPen("#4f8cff", width=2), name="train")
        self.val_curve = item.plot(pen=pg.mkPen("#e0a33a", width=2), symbol="o", symbolSize=6,
                                   symbolBrush="#e0a33a", name="validation")
        self.lr_plot = new_plot("lrPlot")
        self.lr_plot.getAxis("left").setWidth(60)
        self.lr_plot.getAxis("left").enableAutoSIPrefix(False)
        self.loss_plot.getAxis("left").setWidth(60)
        self.lr_plot.setLabel("left", "lr")
        self.lr_plot.setMaximumHeight(150)
        self.lr_plot.setXLink(self.loss_plot)
        self.lr_curve = self.lr_plot.getPlotItem().plot(pen=pg.mkPen("#3fb37f", width=2))
        self.overlay_curves: dict[str, Any] = {}

        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.error)
        layout.addLayout(buttons)
        layout.addLayout(grid)
        layout.addLayout(view)
        layout.addWidget(self.loss_plot, 3)
        layout.addWidget(self.lr_plot, 1)

    # ---- following a run ----------------------------------------------------------------------------
    def attach(self, thread: Any, planned_steps: int) -> None:
        self.thread = thread
        self.series = Series()
        self.planned = planned_steps
        self._rate = None
        self.progress.setMaximum(max(1, planned_steps))
        self.progress.setValue(0)
        self.error.clear_message()
        self.status.setText("Preparing…")
        for w in (self.pause, self.stop, self.save_now):
            w.setEnabled(True)
        self.pause.setChecked(False)
        self.redraw()
        self.timer.start()

    def detach(self) -> None:
        self.drain()
        self.timer.stop()
        self.thread = None
        for w in (self.pause, self.stop, self.save_now):
            w.setEnabled(False)
        self.pause.setChecked(False)

    def show_history(self, name: str, history: list[dict[str, Any]], planned: int, status: str) -> None:
        """Show a finished or stopped run as if it were live (reopened from the run list)."""
        self.series = Series.from_history(history)
        self.planned = planned
        self.progress.setMaximum(max(1, planned))
        last = history[-1]["step"] if history else 0
        self.progress.setValue(int(last))
        self.labels["step"].setText(f"{last:,} / {planned:,}")
        self.status.setText(f"{name}: {status}.")
        self.redraw()

    def set_overlays(self, runs: dict[str, list[dict[str, Any]]]) -> None:
        self.overlays = {name: Series.from_history(h) for name, h in runs.items()}
        self.redraw()

    def drain(self) -> None:
        if self.thread is None:
            return
        from studio.core.training.events import Checkpoint, Metrics, Stage, Status

        changed = False
        events = self.thread.events
        while events:
            t, event = events.popleft()
            if isinstance(event, Metrics):
                self.series.add(event.step, t, event.values)
                self._update_labels(event, t)
                changed = True
            elif isinstance(event, Stage):
                if event.name == "run":
                    self.thread.run_dir = event.message
                else:
                    suffix = f" {event.fraction:.0%}" if event.fraction is not None else ""
                    self.status.setText(event.message + suffix)
            elif isinstance(event, Checkpoint):
                self.status.setText(f"Checkpoint saved at step {event.step:,}.")
            elif isinstance(event, Status):
                self.status.setText(event.message)
        if changed:
            self.redraw()

    def _update_labels(self, event: Any, t: float) -> None:
        v = event.values
        self.planned = event.planned_steps
        self.progress.setMaximum(max(1, self.planned))
        self.progress.setValue(event.step)
        self.labels["step"].setText(f"{event.step:,} / {self.planned:,}")
        if "tokens_per_second" in v and v["tokens_per_second"]:
            self.labels["tps"].setText(f"{v['tokens_per_second']:,.0f}")
        if v.get("memory_bytes"):
            self.labels["memory"].setText(f"{v['memory_bytes'] / 2**20:,.0f} MiB")
        if v.get("learning_rate") is not None:
            self.labels["lr"].setText(f"{v['learning_rate']:.2e}")
        if v.get("eval_loss") is not None:
            self.labels["val"].setText(f"{v['eval_loss']:.3f}")
        if "train_loss" in v:
            if self._rate is not None and event.step > self._rate[1] and not self.pause.isChecked():
                per_step = (t - self._rate[0]) / (event.step - self._rate[1])
                self.labels["eta"].setText(_duration(per_step * (self.planned - event.step)))
            self._rate = (t, event.step)

    # ---- drawing ------------------------------------------------------------------------------------
    def redraw(self, *_: Any) -> None:
        axis = self.x_axis.currentData()
        log = self.log_scale.isChecked()
        weight = self.smoothing.value() / 100
        for plot in (self.loss_plot, self.lr_plot):
            plot.setLabel("bottom", self.x_axis.currentText().lower())
        self.loss_plot.setLogMode(y=log)
        s = self.series
        loss = np.asarray(s.train_loss, dtype=np.float64)
        x = s.x(axis, "train")
        self.raw_curve.setData(x, loss)
        self.train_curve.setData(x, ema(loss, weight))
        self.val_curve.setData(s.x(axis, "eval"), np.asarray(s.eval_loss, dtype=np.float64))
        self.lr_curve.setData(x, np.asarray(s.lr, dtype=np.float64))
        for name in set(self.overlay_curves) - set(self.overlays):
            self.loss_plot.removeItem(self.overlay_curves.pop(name))
        for i, (name, other) in enumerate(self.overlays.items()):
            curve = self.overlay_curves.get(name)
            if curve is None:
                pen = self._pg.mkPen(_OVERLAY_COLOURS[i % len(_OVERLAY_COLOURS)], width=1.5,
                                     style=Qt.PenStyle.DashLine)
                curve = self.loss_plot.getPlotItem().plot(pen=pen, name=name)
                self.overlay_curves[name] = curve
            curve.setData(other.x(axis, "train"), ema(np.asarray(other.train_loss), weight))

    def _pause_toggled(self, paused: bool) -> None:
        self.pause.setText("Resume" if paused else "Pause")
        self.pause_toggled.emit(paused)


def _duration(seconds: float) -> str:
    if not math.isfinite(seconds) or seconds < 0:
        return "–"
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    if seconds >= 60:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds} s"
