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
