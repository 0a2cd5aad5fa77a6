"""How the Train panel tells a run's end: a stop before training began is a stop, never a failure with a
checkpoint that does not exist."""

from __future__ import annotations

from types import SimpleNamespace

from studio.core.training.config import RunConfig
from studio.core.training.messages import CancelledEarly


def test_a_stop_before_training_is_said_as_a_stop(qtbot):
    from studio.ui.panels.train.panel import TrainPanel
    from studio.ui.training_thread import TrainingThread

    panel = TrainPanel()
    qtbot.addWidget(panel)
    thread = TrainingThread(RunConfig(device="cpu"))
    said = "Stopped before training began; nothing was saved."
    thread.process = SimpleNamespace(start=lambda: None, receive=lambda timeout: CancelledEarly(said),
                                     join=lambda timeout=None: 0, alive=False)
    labels: list[str] = []
    panel.run_changed.connect(labels.append)
    panel.ensure_monitor().attach(thread, 30, None, {})
    panel.thread = thread
    thread.failed.connect(panel._failed)
    thread.stopped_early.connect(panel._stopped_early)
    panel.stop()
    assert panel.monitor.status.text() == "Stopping before training begins; nothing will be saved…"
    thread.run()  # the thread's loop, here: the child answers that it stopped before its first step
    assert panel.monitor.status.text() == said
    assert not panel.monitor.error.isVisibleTo(panel) and labels == ["Stopped before training began"]
    assert not panel.monitor.stop.isEnabled()


def test_a_failure_claims_a_checkpoint_only_when_there_is_one(qtbot, tmp_path):
    from studio.ui.panels.train.panel import TrainPanel

    panel = TrainPanel()
    qtbot.addWidget(panel)
    monitor = panel.ensure_monitor()
    monitor.run_dir = str(tmp_path / "run")
    panel._failed("Only 0 training steps fit in 5 minutes on this machine.")
    assert monitor.status.text() == "The run ended with an error before any checkpoint was saved."
    (tmp_path / "run" / "checkpoints" / "checkpoint-5").mkdir(parents=True)
    (tmp_path / "run" / "checkpoints" / "checkpoint-5" / "trainer_state.json").write_text("{}")
    panel._failed("The disk is full.")
    assert monitor.status.text() == "The run ended with an error; its last checkpoint is kept."
