"""The monitor says when a run overfits: validation loss rising for several evaluations while training
loss falls (seen on a 500-row CSV trained 3,000 steps: validation 0.99 -> 1.70, and no word)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from studio.core.tasks import registry
from tests.ui.helpers import TIMEOUT


def _info(history):
    return SimpleNamespace(path="/tmp/run", base=None, history=history, planned_steps=300, global_step=300, last=history[-1],
                           name="run", status="completed", report=None, model_dir=None, checkpoints=[], samples=[])


def _history(evaluations):
    rows = [{"step": s, "time": float(s), "train_loss": 3.0 - s / 100, "learning_rate": 1e-3, "grad_norm": s / 10}
            for s in range(10, 310, 10)]
    return [dict(r, **({"eval_loss": evaluations[r["step"]]} if r["step"] in evaluations else {})) for r in rows]


def test_overfitting_is_said_and_a_healthy_run_is_not_flagged(qtbot):
    from studio.ui.panels.train.monitor import Monitor

    monitor = Monitor()
    qtbot.addWidget(monitor)
    monitor.show()
    task = registry.get("classify")
    monitor.show_history(_info(_history({50: 1.2, 100: 0.99, 150: 1.1, 200: 1.3, 250: 1.5, 300: 1.7})), task)
    assert monitor.warning.isVisible() and "memorising" in monitor.warning.text()
    assert "0.990 at step 100" in monitor.warning.text()
    xs, ys = monitor.curves.best_marker.xData, monitor.curves.best_marker.yData
    assert list(xs) == [100] and list(ys) == [0.99]  # the best validation checkpoint, marked
    monitor.curves.lower.setCurrentIndex(monitor.curves.lower.findData("grad_norm"))
    assert list(monitor.curves.lr_curve.yData[:3]) == [1.0, 2.0, 3.0]  # gradient norm, not the schedule
    monitor.show_history(_info(_history({100: 1.2, 200: 1.0, 300: 0.9})), task)
    assert not monitor.warning.isVisible()


@pytest.mark.slow
def test_a_resumed_run_shows_its_curve_from_the_start(window, qtbot, lm_text):
    from studio.core.control import Control
    from studio.core.system import workspace
    from studio.core.system.warm import warm_up

    warm_up()  # the window's background jobs import transformers now too; its first import is not thread-safe
    from studio.core.training import engine
    from studio.core.training.config import RunConfig
    from studio.core.training.events import Metrics

    control = Control()
    run_dir = workspace.runs_dir(workspace.workspace()) / "stopped-run"
    config = RunConfig(data=str(lm_text), vocab_size=300, seq_len=16, batch_size=4, max_steps=8, eval_every=2,
                       save_every=100, log_every=1, device="cpu")
    engine.train(config, out=run_dir, control=control,
                 listeners=[lambda e: isinstance(e, Metrics) and e.step == 4 and control.stop()])
    panel = window.train_panel
    panel.resume_run(run_dir)
    monitor = panel.monitor
    assert monitor.series.train["step"][:4] == [1, 2, 3, 4]  # before the first new step arrives
    assert monitor.labels["val"].text() != "–" and window.run_label.text() == "Training stopped-run"
    qtbot.waitUntil(lambda: not panel.training, timeout=TIMEOUT)
    steps = monitor.series.train["step"]
    assert steps == sorted(set(steps)) and steps[-1] == 8  # each step once, in order


def test_the_monitor_keeps_its_step_status_eta_and_axes_in_line_with_the_run(qtbot):
    import collections

    from studio.core.training.events import Metrics, Status
    from studio.ui.panels.train.monitor import Monitor

    monitor = Monitor()
    qtbot.addWidget(monitor)
    monitor.show()
    monitor.show_history(_info(_history({100: 1.2})), registry.get("classify"))  # a previous run's axes
    thread = SimpleNamespace(events=collections.deque(), run_dir="/tmp/new-run")
    monitor.attach(thread, 100, registry.get("classify"), {})

    def arrive(*events):
        thread.events.extend((0.0, e) for e in events)
        monitor.drain()

    arrive(Metrics(10, 100, {"train_loss": 2.0}, 120.0))
    low, high = monitor.curves.loss_plot.getPlotItem().vb.viewRange()[0]
    assert low <= 0 and high >= 12  # one point: an axis from 0 past it, not 9.6 to 10.4 around it
    arrive(Metrics(20, 100, {"train_loss": 1.5}, 90.0), Status("paused", "Paused at step 23.", 23))
    assert len(monitor.curves.train_curve.getData()[0]) == 2  # two points: drawn, the axis theirs again
    assert monitor.labels["step"].text() == "23 / 100" and monitor.labels["eta"].text() == "paused"
    arrive(Status("running", "Evaluating at step 50…", 50), Metrics(50, 100, {"eval_loss": 1.1}, 60.0))
    assert monitor.status.text() == "Evaluated at step 50; training."
    arrive(Metrics(100, 100, {"train_loss": 1.0}, 0.0))
    assert monitor.labels["eta"].text() == "finishing"  # the last evaluation and the save are still to come
    arrive(Status("completed", "Completed 100 steps."))
    assert monitor.labels["eta"].text() == "–"


def test_steps_move_the_count_the_time_left_and_the_status_between_logged_steps(qtbot, monkeypatch):
    import collections

    from studio.core.training.events import Metrics, Status, Step
    from studio.ui.panels.train import monitor as monitor_module

    monitor = monitor_module.Monitor()
    qtbot.addWidget(monitor)
    thread = SimpleNamespace(events=collections.deque(), run_dir="/tmp/new-run")
    monitor.attach(thread, 30, registry.get("classify"), {})
    clock = [1000.0]
    monkeypatch.setattr(monitor_module.time, "monotonic", lambda: clock[0])

    def arrive(*events):
        thread.events.extend((0.0, e) for e in events)
        monitor.drain()

    assert not monitor.trained
    arrive(Status("running", "Training from step 0 to 30."), Step(1, 30, None))
    assert monitor.labels["step"].text() == "1 / 30" and monitor.trained
    assert monitor.status.text() == "Training from step 0 to 30."  # a sentence is read before it is replaced
    clock[0] += 5
    arrive(Step(4, 30, 260.0))
    assert monitor.labels["step"].text() == "4 / 30" and monitor.labels["eta"].text() != "–"
    assert monitor.status.text() == "Training: step 4 of 30." and monitor.progress.value() == 4
    arrive(Status("paused", "Paused at step 4.", 4))
    assert monitor.labels["eta"].text() == "paused"
    arrive(Status("running", "Resumed at step 4.", 4))
    assert monitor.labels["eta"].text() == "–"  # not "paused" until the next logged step
    clock[0] += 5
    arrive(Step(5, 30, 250.0), Metrics(10, 30, {"train_loss": 1.0}, 200.0))
    assert monitor.status.text() == "Training: step 5 of 30." and monitor.labels["step"].text() == "10 / 30"


def test_a_new_run_starts_on_fresh_axes_and_every_plot_has_room_to_be_read(qtbot):
    """At 1280 x 700 with the sample answers below, the learning-rate plot kept 23 px under its title (its axis
    numbers on top of each other); every plot keeps room for its numbers."""
    import collections

    from studio.core.training.events import Metrics, Samples
    from studio.ui.panels.train.monitor import Monitor

    monitor = Monitor()
    qtbot.addWidget(monitor)
    monitor.resize(1260, 700)
    monitor.show()
    monitor.show_history(_info(_history({100: 1.2, 200: 1.1, 300: 1.0})), registry.get("classify"))
    thread = SimpleNamespace(events=collections.deque(), run_dir="/tmp/new-run")
    monitor.attach(thread, 300, registry.get("prefer"), {})
    for plot in (monitor.curves.loss_plot, monitor.curves.lr_plot):  # not the last run's 0..300 before any point
        assert plot.getPlotItem().vb.viewRange()[0][1] <= 1
    rewards = {"eval_loss": 0.6, "eval_rewards/accuracies": 0.6, "eval_rewards/margins": 0.1,
               "eval_rewards/chosen": 0.1, "eval_rewards/rejected": -0.1}
    thread.events.extend([(0.0, Metrics(10, 300, {"train_loss": 0.69}, 100.0)),
                          (0.0, Samples(50, [{"prompt": "p", "output": "o", "reference": "r"}])),
                          (0.0, Metrics(50, 300, rewards, 90.0))])
    monitor.drain()
    qtbot.wait(50)
    curves = monitor.curves
    for plot in (curves.loss_plot, curves.lr_plot, curves.metrics_plot, curves.values_plot):
        assert plot.isVisible() and plot.getPlotItem().vb.height() >= 60, plot.objectName()
