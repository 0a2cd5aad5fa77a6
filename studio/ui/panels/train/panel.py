"""The Train panel: the wizard, the live monitor of the running job, and the history of runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QLabel,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from studio.core.errors import StudioError
from studio.core.runs import layout, reader
from studio.core.runs.layout import checkpoints, latest_checkpoint
from studio.core.tasks import registry
from studio.core.training.config import RunConfig
from studio.ui.panels.train.runs_view import RunsView
from studio.ui.panels.train.wizard import Wizard
from studio.ui.training_thread import TrainingThread


class TrainPanel(QWidget):
    """Emits `run_changed(text)` for the status bar: the active run and its state."""

    run_changed = Signal(str)
    progress = Signal(int, int)  # step, planned steps: for the status bar
    run_ended = Signal(str)  # a run folder that finished, stopped or failed: model lists change
    open_model = Signal(str, str)  # a run folder and where to open it ("playground" or "attention")
    try_text = Signal(str, str)  # a run folder and a text to classify with its model

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("trainPanel")
        self.thread: TrainingThread | None = None
        self.monitor: Any = None
        self.wizard = Wizard()
        self.wizard.start_requested.connect(self.start)
        self.tabs = QTabWidget(objectName="trainTabs")
        self.tabs.addTab(self.wizard, "New Run")
        self.monitor_holder = QWidget()
        self.monitor_layout = QVBoxLayout(self.monitor_holder)
        self.monitor_placeholder = QLabel("Start a run in New Run, or open one from Runs, to watch it here.",
                                          alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True)
        self.monitor_layout.addWidget(self.monitor_placeholder)
        self.tabs.addTab(self.monitor_holder, "Monitor")
        self.runs = RunsView()
        self.runs.open_run.connect(lambda path: self.open_run(Path(path)))
        self.runs.compare_runs.connect(lambda paths: self.compare([Path(p) for p in paths]))
        self.runs.resume_run.connect(lambda path: self.resume_selected(Path(path)))
        self.runs.scratch_run.connect(lambda path: self.scratch(Path(path)))
        self.runs.open_model.connect(self.open_model)
        self.tabs.addTab(self.runs, "Runs")
        self.tabs.currentChanged.connect(lambda i: i == 2 and self.refresh_runs())
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)

    # ---- the monitor is built on first use: it imports pyqtgraph -------------------------------------
    def ensure_monitor(self) -> Any:
        if self.monitor is None:
            from studio.ui.panels.train.monitor import Monitor

            self.monitor = Monitor()
            self.monitor.pause_toggled.connect(self._pause)
            self.monitor.stop_requested.connect(self.stop)
            self.monitor.save_requested.connect(lambda: self.thread and self.thread.control.request_save())
            self.monitor.open_model.connect(self.open_model)
            self.monitor.try_text.connect(self.try_text)
            bar = self.monitor.progress
            bar.valueChanged.connect(lambda value: self.progress.emit(value, bar.maximum()))
            self.monitor_placeholder.hide()
            self.monitor_layout.addWidget(self.monitor)
        return self.monitor

    # ---- running --------------------------------------------------------------------------------------
    @property
    def training(self) -> bool:
        return self.thread is not None and self.thread.isRunning()

    def start(self, config: RunConfig) -> None:
        self._launch(TrainingThread(config), config.max_steps, f"Training {config.model}", registry.get(config.task),
                     config.task_config().values)

    def resume_run(self, run_dir: Path) -> None:
        info = reader.read(run_dir)
        latest = latest_checkpoint(run_dir)
        if self._launch(TrainingThread(resume_dir=run_dir), info.planned_steps, f"Training {run_dir.name}",
                        registry.find(info.task), layout.read_config(run_dir)) and latest:
            # the curve so far, up to the checkpoint it continues from (later steps are trained again)
            self.monitor.preload([row for row in info.history if row["step"] <= latest[0]])

    def _launch(self, thread: TrainingThread, planned: int, label: str, task: Any, settings: dict[str, Any]) -> bool:
        if self.training:
            self.ensure_monitor().error.show_message("A run is already training; stop it before starting another.")
            self.tabs.setCurrentIndex(1)
            return False
        monitor = self.ensure_monitor()
        self.thread = thread
        thread.finished_ok.connect(self._finished)
        thread.failed.connect(self._failed)
        thread.stopped_early.connect(self._stopped_early)
        monitor.attach(thread, planned, task, settings)
        self.tabs.setCurrentIndex(1)
        self.wizard.set_running(True)
        thread.start()
        self.run_changed.emit(label)  # after start(): the status bar shows progress only while training
        return True

    def _pause(self, paused: bool) -> None:
        if self.thread is None:
            return
        if paused:
            self.thread.control.pause()
        else:
            self.thread.control.resume()
        self.run_changed.emit("Paused" if paused else "Training")

    def stop(self) -> None:
        if self.thread is not None:
            self.thread.control.stop()
            self.monitor.status.setText("Stopping: saving a checkpoint after this step…" if self.monitor.trained else
                                        "Stopping before training begins; nothing will be saved…")

    def stop_and_wait(self, timeout_ms: int = 120_000) -> bool:
        """Stop with a checkpoint and wait for the thread (used when the window closes)."""
        if not self.training:
            return True
        self.stop()
        return self.thread.wait(timeout_ms)

    def _finished(self, result: Any) -> None:
        has_model = result.model_dir is not None or bool(checkpoints(Path(result.run_dir)))
        self.monitor.detach(has_model)
        resume = " Resume it from Runs to continue." if result.status == "stopped" else ""
        self.monitor.status.setText(result.message + resume)
        self._ended(f"{Path(result.run_dir).name}: {result.status}", result.run_dir)

    def _failed(self, text: str) -> None:
        run_dir = self.monitor.run_dir
        kept = bool(run_dir and checkpoints(Path(run_dir)))
        self.monitor.detach(kept)
        self.monitor.error.show_message(text)
        self.monitor.status.setText("The run ended with an error; its last checkpoint is kept." if kept else
                                    "The run ended with an error before any checkpoint was saved.")
        self._ended("Run failed", run_dir)

    def _stopped_early(self, text: str) -> None:
        run_dir = self.monitor.run_dir
        self.monitor.detach(bool(run_dir and checkpoints(Path(run_dir))))
        self.monitor.status.setText(text)
        self._ended("Stopped before training began", run_dir)

    def _ended(self, label: str, run_dir: str | None) -> None:
        self.wizard.set_running(False)
        self.run_changed.emit(label)
        self.refresh_runs()
        if run_dir:
            self.wizard.refresh_runs()  # a run to train from now
            self.run_ended.emit(run_dir)

    # ---- what the rest of the window asks of this panel ----------------------------------------------
    def request_start(self) -> None:
        """Start what the wizard describes, as its Start button does (the Train menu)."""
        self.wizard.request_start()

    def toggle_pause(self) -> None:
        if self.training:
            self.monitor.pause.toggle()

    def save_now(self) -> None:
        """Write a checkpoint of the training run at its next step."""
        if self.training:
            self.thread.control.request_save()

    def use_data(self, selection: dict[str, Any]) -> None:
        """Train on what the Data panel chose."""
        self.wizard.use_data(selection)

    def use_hub_model(self, repo_id: str, task: str | None = None) -> None:
        """Open the wizard at its model page with `repo_id` chosen, for `task` when one is given."""
        self.tabs.setCurrentWidget(self.wizard)
        self.wizard.use_model(repo_id, task)

    def set_gpus(self, gpus: int) -> None:
        self.wizard.set_gpus(gpus)

    # ---- history ------------------------------------------------------------------------------------
    def refresh_runs(self) -> None:
        self.runs.training = self.training
        self.runs.refresh()

    def open_run(self, path: Path) -> None:
        if self.training:
            return
        info = reader.read(path)
        self.ensure_monitor().show_history(info, registry.find(info.task))
        self.tabs.setCurrentIndex(1)

    def compare(self, paths: list[Path]) -> None:
        monitor = self.ensure_monitor()
        # the run the monitor shows is drawn already; as an overlay it would be drawn over itself
        others = [reader.read(p) for p in paths if str(p) != monitor.run_dir]
        shown = monitor.task.name if monitor.task is not None else None
        monitor.set_overlays({i.name: i.history for i in others},
                             {i.name: i.task for i in others if shown is not None and i.task != shown})
        self.tabs.setCurrentIndex(1)

    def scratch(self, path: Path) -> None:
        """Start the fine-tune's twin from scratch, with the fine-tune drawn over it."""
        from studio.core.training.config import from_scratch

        try:
            config = from_scratch(path)
        except StudioError as exc:
            self.ensure_monitor().error.show_message(str(exc))
            return
        self.start(config)
        self.monitor.set_overlays({path.name: reader.read(path).history})

    def resume_selected(self, path: Path) -> None:
        try:
            self.resume_run(path)
        except StudioError as exc:
            self.ensure_monitor().error.show_message(str(exc))
