"""The bridge callback on its own, driven as Trainer drives it: what a log becomes, and how a stop, a
save, a pause, a divergence and a deadline steer the loop."""

from __future__ import annotations

import math
import threading
import time

from transformers import TrainerControl, TrainerState, TrainingArguments

from studio.core.control import Control
from studio.core.runs import reader, writer
from studio.core.training import callback as bridge
from studio.core.training.budget import Timing
from studio.core.training.callback import BridgeCallback
from studio.core.training.events import Metrics, Report, Status


def _bridge(tmp_path, control=None, deadline=None, report=lambda: None, timing=None):
    events = []
    tokens = {"seen": 0}
    store = writer.RunStore(tmp_path)
    made = BridgeCallback(store, events.append, control or Control(), tokens_seen=lambda: tokens["seen"],
                          memory=lambda: 1234, derived=lambda v: {"twice": 2 * v["train_loss"]} if "train_loss" in v else {},
                          report=report, deadline=deadline, timing=timing)
    return made, events, tokens, store


def _args(tmp_path) -> TrainingArguments:
    return TrainingArguments(output_dir=str(tmp_path / "checkpoints"), eval_steps=10, save_steps=20, report_to="none",
                             use_cpu=True)


def _state(step: int, last: int = 100) -> TrainerState:
    state = TrainerState()
    state.global_step, state.max_steps = step, last
    return state


def test_a_log_becomes_one_row_per_metric_and_one_event(tmp_path):
    made, events, tokens, store = _bridge(tmp_path)
    args = _args(tmp_path)
    made.on_train_begin(args, _state(0), TrainerControl())
    tokens["seen"] = 4096
    time.sleep(0.01)
    made.on_log(args, _state(5), TrainerControl(), logs={"loss": 2.0, "learning_rate": 1e-3, "train_runtime": 9.0,
                                                           "epoch": 0.5})
    made.on_log(args, _state(5), TrainerControl(), logs={"epoch": 0.5})  # nothing but the epoch: not a row
    metrics = [e for e in events if isinstance(e, Metrics)]
    assert len(metrics) == 1
    values = metrics[0].values
    assert values["train_loss"] == 2.0 and values["twice"] == 4.0 and values["memory_bytes"] == 1234
    assert values["tokens_per_second"] > 0 and "train_runtime" not in values and "loss" not in values
    store.close()
    assert reader.read(tmp_path).last["train_loss"] == 2.0


def test_a_loss_that_is_no_longer_a_number_stops_without_saving(tmp_path):
    made, _, _, _ = _bridge(tmp_path)
    control = TrainerControl()
    made.on_log(_args(tmp_path), _state(7), control, logs={"loss": math.nan})
    assert made.diverged_at == 7 and control.should_training_stop and not control.should_save


def test_stop_and_save_now_are_taken_at_the_step_boundary(tmp_path):
    person = Control()
    made, _, _, _ = _bridge(tmp_path, control=person)
    args = _args(tmp_path)
    person.request_save()
    control = TrainerControl()
    made.on_step_end(args, _state(3), control)
    assert control.should_save and not control.should_training_stop
    person.stop()
    control = TrainerControl()
    made.on_step_end(args, _state(4), control)
    assert made.stopped_at == 4 and control.should_save and control.should_training_stop


def test_a_passed_deadline_evaluates_saves_and_ends(tmp_path):
    made, _, _, _ = _bridge(tmp_path, deadline=time.monotonic() - 1)
    control = TrainerControl()
    made.on_step_end(_args(tmp_path), _state(30), control)
    assert made.out_of_time_at == 30
    assert control.should_evaluate and control.should_save and control.should_training_stop


def test_a_pause_holds_the_step_until_resumed(tmp_path):
    person = Control()
    made, events, _, _ = _bridge(tmp_path, control=person)
    person.pause()
    threading.Timer(0.3, person.resume).start()
    began = time.monotonic()
    made.on_step_end(_args(tmp_path), _state(2), TrainerControl())
    assert time.monotonic() - began >= 0.25
    said = [(e.status, e.message) for e in events if isinstance(e, Status)]
    assert said == [("paused", "Paused at step 2."), ("running", "Resumed at step 2.")]


def test_an_evaluation_report_is_kept_and_told(tmp_path):
    made, events, _, store = _bridge(tmp_path, report=lambda: {"confusion": [[1, 0], [0, 1]]})
    made.on_evaluate(_args(tmp_path), _state(10), TrainerControl())
    assert events == [Report(10, {"confusion": [[1, 0], [0, 1]]})]
    store.close()
    assert reader.read(tmp_path).report["confusion"] == [[1, 0], [0, 1]]


def test_the_time_left_counts_steps_evaluations_and_checkpoints(monkeypatch):
    now = {"t": 0.0}
    monkeypatch.setattr(bridge.time, "perf_counter", lambda: now["t"])
    clock = bridge._Clock(Timing(step_s=0.0, eval_s=5.0, save_s=2.0))  # a calibration's evaluation and checkpoint
    for step in (1, 2, 3):
        clock.step_ended(step)
        now["t"] += 0.5
    # 0.5 s a step; from step 3 of 100 with evaluations every 10 and checkpoints every 20
    left = clock.left(3, 100, 10, 20)
    assert math.isclose(left, 97 * 0.5 + 10 * 5.0 + 5 * 2.0)


def test_steps_are_told_between_logs_a_few_times_a_second(tmp_path, monkeypatch):
    from studio.core.training.events import Step

    clock = [100.0]
    monkeypatch.setattr(bridge.time, "monotonic", lambda: clock[0])
    made, events, _, _ = _bridge(tmp_path)
    args = _args(tmp_path)
    made.on_train_begin(args, _state(0, 30), TrainerControl())
    for step in range(1, 6):  # five quick steps: one told, the others within the same quarter second
        clock[0] += 0.01
        made.on_step_end(args, _state(step, 30), TrainerControl())
    clock[0] += 1.0
    made.on_step_end(args, _state(6, 30), TrainerControl())
    last = TrainerControl()
    last.should_training_stop = True  # the last step is always told
    made.on_step_end(args, _state(7, 30), last)
    assert [(e.step, e.planned_steps) for e in events if isinstance(e, Step)] == [(1, 30), (6, 30), (7, 30)]
    assert not any(isinstance(e, Metrics) for e in events)
