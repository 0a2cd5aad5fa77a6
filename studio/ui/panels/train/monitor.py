"""The live training monitor: progress and run controls, the figures of the moment, the curves, the
latest evaluation's report (a classifier's confusion matrix and mistakes), and the sample answers of a
run whose models write text.

Events arrive in a deque filled by the training thread; a 10 Hz timer drains it, so the training
process never sends the window one signal per step.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from studio.core.runs import layout, lineage, summary
from studio.core.system import sizes
from studio.ui import outputs as views
from studio.ui.panels.train.curves import Curves, Series
from studio.ui.panels.train.samples_view import SamplesView
from studio.ui.widgets.export_dialog import open_export_dialog
from studio.ui.widgets.messages import ErrorLabel

_DRAIN_MS = 100
_SAID_S = 3.0  # a sentence (a checkpoint saved, resumed) stays this long before the step count replaces it
_FIGURES = (("step", "Step"), ("eta", "ETA"), ("tps", "Tokens/s"), ("memory", "Memory"), ("lr", "Learning rate"),
            ("val", "Val loss"))


class Monitor(QWidget):
    pause_toggled = Signal(bool)
    stop_requested = Signal()
    save_requested = Signal()
    open_model = Signal(str, str)  # run folder, "playground" or "attention"
    try_text = Signal(str, str)  # run folder, a text to classify in the Playground

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("monitor")
        self.thread: Any = None
        self.run_dir: str | None = None
        self.planned = 0
        self.headline: tuple[Any, ...] = ()
        self._rate: tuple[float, int] | None = None
        self.trained = False  # a training step of the run followed now has ended: a stop saves a checkpoint
        self._said_at = 0.0  # when the status last said something other than the step count
        self.curves = Curves()
        # the report of a run, by what its task's models give (studio.ui.outputs)
        self.report_views = {kind.name: views.view_of(kind).report() for kind in views.kinds()
                             if views.view_of(kind).report is not None}
        for view in self.report_views.values():
            view.row_chosen.connect(lambda text: self.run_dir and self.try_text.emit(self.run_dir, text))
        self.task: Any = None
        self._build()
        self.timer = QTimer(self, interval=_DRAIN_MS)
        self.timer.timeout.connect(self.drain)

    @property
    def series(self) -> Series:
        return self.curves.series

    def _build(self) -> None:
        self.status = QLabel("No run yet.", objectName="monitorStatus", wordWrap=True)
        self.error = ErrorLabel("monitorError")
        self.warning = QLabel(objectName="monitorWarning", wordWrap=True, visible=False)
        self.warning.setStyleSheet("color: #b7791f; font-weight: 600;")  # amber: readable on light and dark
        self.progress = QProgressBar(objectName="monitorProgress")
        self.pause = QPushButton("Pause", objectName="pauseButton", checkable=True, enabled=False)
        self.pause.setToolTip("Pause after the current step; the model and optimizer stay in memory")
        self.pause.toggled.connect(self._pause_toggled)
        self.stop = QPushButton("Stop", objectName="stopButton", enabled=False, clicked=lambda: self.stop_requested.emit())
        self.stop.setToolTip("Save a checkpoint and end the run; you can resume it later")
        self.save_now = QPushButton("Save Now", objectName="saveNowButton", enabled=False,
                                    clicked=lambda: self.save_requested.emit())
        self.save_now.setToolTip("Write a checkpoint after the current step and keep training")
        self.to_playground = QPushButton("Open in Playground", objectName="openInPlaygroundButton", visible=False,
                                         clicked=lambda: self.run_dir and self.open_model.emit(self.run_dir, "playground"))
        self.to_playground.setToolTip("Load this run's model in the Playground")
        self.to_attention = QPushButton("Open in Attention", objectName="openInAttentionButton", visible=False,
                                        clicked=lambda: self.run_dir and self.open_model.emit(self.run_dir, "attention"))
        self.to_attention.setToolTip("Load this run's model in the Attention inspector")
        self.to_export = QPushButton("Export…", objectName="exportModelButton", visible=False,
                                     clicked=lambda: self.run_dir and open_export_dialog(self.run_dir, self))
        self.to_export.setToolTip("Write this run's model for llama.cpp, LM Studio, Ollama or the Hub")
        buttons = QHBoxLayout()
        for w in (self.progress, self.pause, self.save_now, self.stop, self.to_playground, self.to_attention,
                  self.to_export):
            buttons.addWidget(w, 1 if w is self.progress else 0)
        self.figures = QGridLayout()
        self.labels: dict[str, QLabel] = {}
        self._figure_titles: dict[str, QLabel] = {}
        for key, title in _FIGURES:
            self._add_figure(key, title)
        self.split = QSplitter(Qt.Orientation.Vertical, objectName="monitorSplitter")
        self.split.addWidget(self.curves)
        for view in self.report_views.values():
            self.split.addWidget(view)
            view.hide()
        self.samples = SamplesView()
        self.split.addWidget(self.samples)
        self.samples.hide()
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.error)
        layout.addWidget(self.warning)
        layout.addLayout(buttons)
        layout.addLayout(self.figures)
        layout.addWidget(self.split, 1)

    def _add_figure(self, key: str, title: str) -> None:
        column = len(self.labels)
        name = QLabel(title)
        value = QLabel("–", objectName=f"monitor_{key}")
        value.setStyleSheet("font-weight: 600;")
        self.figures.addWidget(name, 0, column)
        self.figures.addWidget(value, 1, column)
        self.labels[key] = value
        self._figure_titles[key] = name

    def _show_task(self, task: Any, settings: dict[str, Any]) -> None:
        """The run's headline metrics: a figure each above the curves, and a curve each beside the loss."""
        for key in [k for k in self.labels if k.startswith("eval_")]:
            for widget in (self.labels.pop(key), self._figure_titles.pop(key)):
                self.figures.removeWidget(widget)
                widget.setParent(None)  # off the screen now; deleteLater waits for the event loop
                widget.deleteLater()
        self.task = task
        self.headline = task.headline_of(settings) if task is not None else ()
        for metric in self.headline:
            self._add_figure(metric.name, metric.title)
        for label in self.labels.values():
            label.setText("–")
        self.curves.set_headline(self.headline)

    # ---- following a run ----------------------------------------------------------------------------
    def attach(self, thread: Any, planned_steps: int, task: Any, settings: dict[str, Any]) -> None:
        self.thread = thread
        self.run_dir = thread.run_dir
        self.planned = planned_steps
        self._rate = None
        self.trained = False
        self._show_task(task, settings)
        self.curves.set_overlays({})  # a comparison belongs to the run it was chosen for
        self.curves.set_series(Series())
        self.curves.fresh_axes()  # not the last run's ranges, nor a range the person zoomed to
        self.labels["eta"].setText("–")
        self._check_health()
        self._hide_reports()
        self.samples.clear()
        self.samples.hide()
        self.progress.setMaximum(max(1, planned_steps))
        self.progress.setValue(0)
        self.error.clear_message()
        # the training process loads PyTorch before it can say anything (7 s on an idle 2-core machine, more on a
        # busy one); then each stage names itself: the data, the tokenizer, the model, tokenizing
        self.status.setText("Starting the training process (it loads PyTorch first)…")
        for w in (self.pause, self.stop, self.save_now):
            w.setEnabled(True)
        for w in (self.to_playground, self.to_attention, self.to_export):
            w.hide()
        self.pause.setChecked(False)
        self.timer.start()

    def detach(self, has_model: bool) -> None:
        self.drain()
        self.timer.stop()
        self.labels["eta"].setText("–")  # nothing left to wait for
        self.thread = None
        for w in (self.pause, self.stop, self.save_now):
            w.setEnabled(False)
        for w in (self.to_playground, self.to_attention, self.to_export):
            w.setVisible(has_model)
        self.pause.setChecked(False)

    def preload(self, history: list[dict[str, Any]]) -> None:
        """A resumed run's curves and figures up to where it resumes, before its first new step arrives.
        The store keeps Unix times; live events come on the monotonic clock, so the rows are moved onto it."""
        shift = time.monotonic() - time.time()
        self.curves.set_series(Series.from_history([dict(row, time=(row.get("time") or 0.0) + shift)
                                                    for row in history]))
        last: dict[str, Any] = {}
        for row in history:
            last.update({k: v for k, v in row.items() if v is not None})
        if history:
            step = int(history[-1]["step"])
            self.progress.setValue(step)
            self.labels["step"].setText(f"{step:,} / {self.planned:,}")
        self._show_values(last)
        self.curves.redraw()
        self._check_health()

    def show_history(self, info: Any, task: Any) -> None:
        """Show a finished or stopped run as if it were live (reopened from the run list)."""
        self.run_dir = info.path
        self._show_task(task, layout.read_config(Path(info.path)))
        self.curves.set_overlays({})  # a comparison belongs to the run it was chosen for
        self.curves.fresh_axes()
        self.curves.set_series(Series.from_history(info.history))
        self._check_health()
        self.planned = info.planned_steps
        self.progress.setMaximum(max(1, info.planned_steps))
        self.progress.setValue(info.global_step)
        self.labels["step"].setText(f"{info.global_step:,} / {info.planned_steps:,}")
        self._show_values(info.last)
        chain = lineage.lineage(Path(info.path), info.base)  # a few small files: the runs it came from
        came_from = f" It continues {lineage.describe(chain[:-1])}." if len(chain) > 1 else ""
        self.status.setText(f"{info.name}: {info.status}.{came_from}")
        self.error.clear_message()
        self._hide_reports()
        if info.report:
            self.show_report(info.report)
        self.samples.set_all(info.samples)
        self._show_samples(bool(info.samples))
        for w in (self.to_playground, self.to_attention, self.to_export):
            w.setVisible(bool(info.model_dir or info.checkpoints))

    def show_report(self, body: dict[str, Any]) -> None:
        view = self.report_views.get(self.task.output.name) if self.task is not None else None
        if view is None:
            return
        view.show_report(body)
        if view.isHidden():
            view.show()
            self.split.setSizes([3] + [2 if v is view else 0 for v in self.report_views.values()])

    def _show_samples(self, shown: bool) -> None:
        if shown and self.samples.isHidden():
            self.samples.show()
            # the curves keep the larger share; a report already shown keeps its own
            self.split.setSizes([3] + [2 if v.isVisible() else 0 for v in self.report_views.values()] + [2])
        elif not shown:
            self.samples.hide()

    def _hide_reports(self) -> None:
        for view in self.report_views.values():
            view.hide()

    def drain(self) -> None:
        if self.thread is None:
            return
        from studio.core.training.events import Checkpoint, Metrics, Report, RunStarted, Samples, Stage, Status, Step

        changed = evaluated = False
        events = self.thread.events
        while events:
            t, event = events.popleft()
            if isinstance(event, Step):
                self._stepped(event)
            elif isinstance(event, Metrics):
                self.series.add(event.step, t, event.values)
                self._update_labels(event, t)
                changed = True
                evaluated = evaluated or "eval_loss" in event.values
                if "eval_loss" in event.values and self.status.text().startswith("Evaluating"):
                    self._say(f"Evaluated at step {event.step:,}; training.")
            elif isinstance(event, Report):
                self.show_report({"step": event.step, **event.body})
            elif isinstance(event, Samples):
                self.samples.add(event.step, event.answers)
                self._show_samples(True)
            elif isinstance(event, RunStarted):
                self.thread.run_dir = self.run_dir = event.path
            elif isinstance(event, Stage):
                suffix = f" {event.fraction:.0%}" if event.fraction is not None else ""
                self.status.setText(event.message + suffix)
            elif isinstance(event, Checkpoint):
                self._say(f"Checkpoint saved at step {event.step:,}.")
            elif isinstance(event, Status):
                self._show_status(event)
        if changed:
            self.curves.redraw()
        if evaluated:  # the verdict changes only with a validation loss; the whole history is read for it
            self._check_health()

    def _show_status(self, event: Any) -> None:
        """The sentence, with the step and the ETA brought in line with it (paused at step 23 reads 23 above)."""
        self._say(event.message)
        if event.step is not None:
            self._show_step(event.step)
        if event.status == "paused":
            self.labels["eta"].setText("paused")
        elif event.status in ("completed", "stopped", "failed") or self.labels["eta"].text() == "paused":
            self.labels["eta"].setText("–")  # resumed: the next step brings the time left

    def _say(self, message: str) -> None:
        self.status.setText(message)
        self._said_at = time.monotonic()

    def _stepped(self, event: Any) -> None:
        """A step ended: the count, the bar and the time left move, and the status says training goes on once
        the last sentence has been read (an evaluation's sentence stays until its result comes)."""
        self._at(event.step, event.planned_steps)
        if self.pause.isChecked():
            return
        if event.seconds_left is not None and event.step < self.planned:
            self.labels["eta"].setText(sizes.duration(event.seconds_left))
        text = self.status.text()
        if time.monotonic() - self._said_at > _SAID_S and not text.startswith(("Evaluating", "Stopping")):
            self.status.setText(f"Training: step {event.step:,} of {self.planned:,}.")

    def _show_step(self, step: int) -> None:
        self.progress.setValue(step)
        self.labels["step"].setText(f"{step:,} / {self.planned:,}")

    def _check_health(self) -> None:
        """Say so when validation loss keeps rising while training loss falls (overfitting)."""
        warning = summary.overfitting(self.series.losses())
        self.warning.setText(warning or "")
        self.warning.setVisible(warning is not None)

    def _show_values(self, v: dict[str, Any]) -> None:
        if v.get("tokens_per_second"):
            self.labels["tps"].setText(f"{v['tokens_per_second']:,.0f}")
        if v.get("memory_bytes"):
            self.labels["memory"].setText(f"{v['memory_bytes'] / 2**20:,.0f} MiB")
        if v.get("learning_rate") is not None:
            self.labels["lr"].setText(f"{v['learning_rate']:.2e}")
        if v.get("eval_loss") is not None:
            self.labels["val"].setText(f"{v['eval_loss']:.3f}")
        for metric in self.headline:
            value = v.get(metric.name)
            if value is not None:
                self.labels[metric.name].setText(f"{value:.1%}" if metric.share else f"{value:,.3f}")

    def _at(self, step: int, planned: int) -> None:
        """A training step has ended: the step, of how many, on the bar and in the figures."""
        self.trained = True
        self.planned = planned
        self.progress.setMaximum(max(1, planned))
        self._show_step(step)

    def _update_labels(self, event: Any, t: float) -> None:
        self._at(event.step, event.planned_steps)
        self._show_values(event.values)
        if event.step >= self.planned:
            # the last step is done; its evaluation and the model's save take what they take
            self.labels["eta"].setText("finishing")
        elif event.seconds_left is not None and not self.pause.isChecked():
            # The engine counts the evaluations and checkpoints to come, and a time budget's deadline.
            self.labels["eta"].setText(sizes.duration(event.seconds_left))
        elif "train_loss" in event.values:
            if self._rate is not None and event.step > self._rate[1] and not self.pause.isChecked():
                per_step = (t - self._rate[0]) / (event.step - self._rate[1])
                self.labels["eta"].setText(sizes.duration(per_step * (self.planned - event.step)))
            self._rate = (t, event.step)

    def set_overlays(self, runs: dict[str, list[dict[str, Any]]], other_tasks: dict[str, str] | None = None) -> None:
        """Draw other runs over this one; those of `other_tasks` (name -> their task) by their loss only."""
        self.curves.set_overlays(runs, other_tasks)

    def _pause_toggled(self, paused: bool) -> None:
        self.pause.setText("Resume" if paused else "Pause")
        self.pause_toggled.emit(paused)
