"""The engine end to end on a tiny model: pause, resume and stop from another thread, divergence, early
stopping, data loader workers, TensorBoard."""

from __future__ import annotations

import math
import threading
import time

import pytest

from studio.core.control import Control
from studio.core.errors import ConfigError, TrainingError
from studio.core.runs import layout, reader
from studio.core.training import build, engine
from studio.core.training import config as run_config
from studio.core.training.config import RunConfig
from studio.core.training.events import Checkpoint, Metrics, RunStarted, Status


def _tiny(data) -> RunConfig:
    return RunConfig(data=str(data), vocab_size=300, seq_len=16, batch_size=4, max_steps=30, eval_every=100,
                     save_every=100, log_every=1, device="cpu")


def test_pause_resume_and_stop_from_another_thread(lm_text, ws, tmp_path):
    control = Control()
    events: list = []
    paused = threading.Event()

    def listen(event) -> None:
        events.append(event)
        if isinstance(event, Metrics) and event.step == 3 and not control.paused and not paused.is_set():
            control.pause()
        if isinstance(event, Status) and event.status == "paused":
            paused.set()

    def driver() -> None:
        paused.wait(60)
        time.sleep(0.3)
        control.request_save()
        deadline = time.monotonic() + 600
        while not any(isinstance(e, Checkpoint) for e in events) and time.monotonic() < deadline:
            time.sleep(0.01)  # saved while still paused
        time.sleep(0.3)
        control.resume()
        while not any(isinstance(e, Metrics) and e.step >= 6 for e in events):
            time.sleep(0.01)
        control.stop()

    threading.Thread(target=driver, daemon=True).start()
    result = engine.train(_tiny(lm_text), root=ws, out=tmp_path / "run", listeners=[listen],
                          control=control)
    started = [i for i, e in enumerate(events) if isinstance(e, RunStarted)]
    first_metrics = next(i for i, e in enumerate(events) if isinstance(e, Metrics))
    assert len(started) == 1 and started[0] < first_metrics and events[started[0]].path == str(tmp_path / "run")
    statuses = [e.status for e in events if isinstance(e, Status)]
    assert statuses[:4] == ["running", "paused", "paused", "running"] and statuses[-1] == "stopped"
    paused = [e.message for e in events if isinstance(e, Status) and e.status == "paused"]
    assert any("checkpoint is saved" in m for m in paused)  # Save Now while paused is not silent
    assert result.status == "stopped" and 6 <= result.global_step < 30
    steps = [s for s, _ in layout.checkpoints(tmp_path / "run")]
    assert 3 in steps or 4 in steps  # save-now right after the pause
    assert steps[-1] == result.global_step  # stop saved where it stopped
    tokens = [e.values["tokens_per_second"] for e in events if isinstance(e, Metrics) and "tokens_per_second" in e.values]
    assert min(tokens) > 100  # the paused seconds are not counted as slow training


def test_divergence_fails_clearly_and_keeps_checkpoints(lm_text, ws, tmp_path, monkeypatch):
    from studio.core.training import callback

    real = callback.BridgeCallback.on_log

    def poisoned(self, args, state, control, logs=None, **kw):
        if logs and "loss" in logs and state.global_step >= 5:
            logs = {**logs, "loss": math.nan}
        return real(self, args, state, control, logs=logs, **kw)

    monkeypatch.setattr(callback.BridgeCallback, "on_log", poisoned)
    config = _tiny(lm_text)
    config.save_every = 2
    with pytest.raises(TrainingError, match="diverged at step 5"):
        engine.train(config, root=ws, out=tmp_path / "nan")
    info = reader.read(tmp_path / "nan")
    assert info.status == "failed" and "diverged" in info.error
    assert [s for s, _ in layout.checkpoints(tmp_path / "nan")] == [2, 4]


def test_a_folder_named_like_a_preset_does_not_pass_for_a_base_run(ws, lm_text, tmp_path, monkeypatch):
    from studio.core.runs import reader

    monkeypatch.chdir(tmp_path)  # the run folder ./gpt-tiny is created under the same name as the preset
    config = run_config.from_dict({"data": str(lm_text), "model": "gpt-tiny", "vocab_size": 300, "seq_len": 16,
                                   "batch_size": 4, "max_steps": 2, "eval_every": 2, "save_every": 2,
                                   "device": "cpu"})
    result = engine.train(config, root=ws, out=tmp_path / "gpt-tiny")
    assert result.status == "completed" and reader.read(tmp_path / "gpt-tiny").base is None


def test_data_loader_workers_still_count_tokens(lm_text, ws, tmp_path, monkeypatch):
    """On a GPU, worker processes collate the batches; the token count must travel back with them."""
    monkeypatch.setattr(build, "loader_workers", lambda device: 2)
    events: list = []
    config = _tiny(lm_text)
    config.max_steps = 6
    config.eval_every = 3
    result = engine.train(config, root=ws, out=tmp_path / "workers", listeners=[events.append])
    assert result.status == "completed"
    rates = [e.values["tokens_per_second"] for e in events if isinstance(e, Metrics) and "tokens_per_second" in e.values]
    assert len(rates) >= 4 and min(rates) > 0
    assert reader.read(tmp_path / "workers").last["eval_loss"] > 0  # evaluation batches reached the model clean
    said = [e.message for e in events if isinstance(e, Status)]
    assert "Evaluating at step 3…" in said and "Evaluating at step 6…" in said


def test_early_stopping_ends_the_run_and_exports_the_best_checkpoint(lm_text, ws, tmp_path, monkeypatch):
    import json

    import torch
    from safetensors.torch import load_file
    from transformers import EarlyStoppingCallback, Trainer

    real_best = Trainer._determine_best_metric
    seen: list[int] = []

    def best_is_step_4(self, metrics, trial):  # validation loss as a run that starts to overfit after step 4
        seen.append(self.state.global_step)
        return real_best(self, {**metrics, "eval_loss": 1.0 if self.state.global_step == 4 else 2.0}, trial)

    def no_better_after_step_4(self, args, state, control, metric_value):
        self.early_stopping_patience_counter = 0 if state.global_step <= 4 else self.early_stopping_patience_counter + 1

    monkeypatch.setattr(Trainer, "_determine_best_metric", best_is_step_4)
    monkeypatch.setattr(EarlyStoppingCallback, "check_metric_value", no_better_after_step_4)
    config = _tiny(lm_text)
    config.eval_every, config.save_every, config.early_stopping, config.keep_checkpoints = 2, 2, 2, 1
    run_dir = tmp_path / "early"
    result = engine.train(config, root=ws, out=run_dir)
    assert result.status == "completed" and result.global_step == 8 and "Stopped early at step 8" in result.message
    assert "best checkpoint, step 4" in result.message
    assert [s for s, _ in layout.checkpoints(run_dir)] == [4, 8]  # keep 1, and the best
    state = json.loads((run_dir / layout.CHECKPOINTS / "checkpoint-8" / "trainer_state.json").read_text())
    assert state["best_model_checkpoint"] == str(run_dir / layout.CHECKPOINTS / "checkpoint-4")
    exported = load_file(str(run_dir / layout.MODEL / "model.safetensors"))
    best = load_file(str(run_dir / layout.CHECKPOINTS / "checkpoint-4" / "model.safetensors"))
    last = load_file(str(run_dir / layout.CHECKPOINTS / "checkpoint-8" / "model.safetensors"))
    name = next(iter(best))
    assert torch.equal(exported[name], best[name]) and not torch.equal(exported[name], last[name])
    with pytest.raises(ConfigError, match="multiple of --eval-every"):
        run_config.validate(RunConfig(early_stopping=3, eval_every=100, save_every=150))


def test_metrics_also_go_to_tensorboard(lm_text, ws, tmp_path):
    pytest.importorskip("tensorboard")  # an optional dependency of the app; the test extra installs it
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    config = _tiny(lm_text)
    config.max_steps, config.eval_every = 4, 2
    engine.train(config, root=ws, out=tmp_path / "board")
    board = EventAccumulator(str(tmp_path / "board" / layout.TENSORBOARD))
    board.Reload()
    tags = board.Tags()["scalars"]
    assert "train/loss" in tags and "eval/loss" in tags
    assert [e.step for e in board.Scalars("eval/loss")] == [2, 4]
