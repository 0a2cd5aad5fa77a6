"""Training in a child process: steered through a pipe, stopped with a checkpoint when its parent goes."""

from __future__ import annotations

import os
import signal
import time

import pytest

from studio.core.runs import reader
from studio.core.training.child import TrainingProcess
from studio.core.training.config import RunConfig
from studio.core.training.events import Checkpoint, Metrics
from studio.core.training.messages import Done, EventMessage, Failed, Lost


def _config(lm_text) -> RunConfig:
    return RunConfig(data=str(lm_text), vocab_size=400, seq_len=32, batch_size=8, max_steps=2000, eval_every=10**6,
                     save_every=10**6, log_every=1, lr=3e-3, device="cpu")


def _until(process: TrainingProcess, predicate, timeout: float = 600):  # a hang guard, not a time limit
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        message = process.receive(0.2)
        if message is not None and predicate(message):
            return message
    raise AssertionError("the child did not report in time")


@pytest.mark.slow
def test_pause_resume_and_a_vanished_parent_stop_with_a_checkpoint(lm_text, ws, tmp_path):
    out = tmp_path / "run"
    process = TrainingProcess(_config(lm_text), out=out)
    process.start()
    _until(process, lambda m: isinstance(m, EventMessage) and isinstance(m.event, Metrics) and m.event.step >= 3)
    process.control.pause()
    _until(process, lambda m: isinstance(m, EventMessage) and getattr(m.event, "status", "") == "paused")
    process.control.request_save()  # Save Now while paused: a checkpoint of this step, and still paused
    saved = _until(process, lambda m: isinstance(m, EventMessage) and isinstance(m.event, Checkpoint)).event
    paused_at = saved.step
    time.sleep(1.0)
    info = reader.read(out)
    assert info.global_step == paused_at and info.checkpoints[-1]["step"] == paused_at
    process.control.resume()
    _until(process, lambda m: isinstance(m, EventMessage) and isinstance(m.event, Metrics)
           and m.event.step > paused_at + 1)
    process.control._connection.close()  # what the parent's death looks like from the child
    ended = _until(process, lambda m: isinstance(m, (Done, Failed, Lost)))
    assert isinstance(ended, Done) and ended.result.status == "stopped"
    assert process.join(30) == 0
    info = reader.read(out)
    assert info.status == "stopped" and info.checkpoints[-1]["step"] == info.global_step > paused_at


@pytest.mark.slow
def test_a_killed_child_is_reported_not_hung(lm_text, ws, tmp_path):
    process = TrainingProcess(_config(lm_text), out=tmp_path / "run")
    process.start()
    _until(process, lambda m: isinstance(m, EventMessage) and isinstance(m.event, Metrics))
    os.kill(process._process.pid, signal.SIGKILL)
    _until(process, lambda m: isinstance(m, Lost), timeout=600)  # the pipe closed: reported, not waited on forever
    assert process.join(10) == -signal.SIGKILL
    assert reader.read(tmp_path / "run").status == "stopped"  # its pid is gone, so the store reads as stopped


def test_nothing_to_lose_holds_its_stretch_open_while_an_owner_acts_on_it():
    import threading

    from studio.core.control import Control

    control, acted, left = Control(), [], threading.Event()
    control.if_nothing_to_lose(lambda: acted.append("before"))  # outside the stretch: nothing is done
    with control.nothing_to_lose():
        owner = threading.Thread(target=control.if_nothing_to_lose,
                                 args=(lambda: (acted.append("inside"), left.wait(0.3), acted.append("done")),))
        owner.start()
        while not acted:
            time.sleep(0.01)
    acted.append("left")  # the stretch ended only once the owner had finished
    owner.join()
    assert acted == ["inside", "done", "left"]
    control.if_nothing_to_lose(lambda: acted.append("after"))
    assert acted[-1] == "left"


@pytest.mark.slow
def test_a_stop_while_preparing_ends_at_once_and_says_nothing_was_saved(lm_text, ws, tmp_path):
    from studio.core.training.events import Stage
    from studio.core.training.messages import CancelledEarly

    out = tmp_path / "run"
    process = TrainingProcess(_config(lm_text), out=out)
    process.start()
    _until(process, lambda m: isinstance(m, EventMessage) and isinstance(m.event, Stage))
    process.control.stop()
    ended = _until(process, lambda m: not isinstance(m, EventMessage))
    assert isinstance(ended, CancelledEarly) and ended.message == "Stopped before training began; nothing was saved."
    assert process.join(60) == 0
    assert not (out / "config.toml").exists() and not (out / "metrics.sqlite").exists()
