"""The bridge between Hugging Face Trainer and Studio: it reports, and it steers.

Reports: every Trainer log becomes one row per metric in the run store and one `Metrics` event, with
throughput and memory added. Steers: at each step boundary it honours pause (blocks on an Event, no
polling), save-now and stop (save a checkpoint, then end the loop through `should_training_stop`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

from studio.core.control import Control
from studio.core.runs.store import RunStore
from studio.core.training.events import Checkpoint, Listener, Metrics, Report, Status

_RENAMES = {"loss": "train_loss"}
_DROP = {"total_flos", "train_runtime", "train_samples_per_second", "train_steps_per_second", "train_loss",
         "eval_runtime", "eval_samples_per_second", "eval_steps_per_second", "num_input_tokens_seen"}


class BridgeCallback(TrainerCallback):
    def __init__(self, store: RunStore, emit: Listener, control: Control, *, tokens_seen: Callable[[], int],
                 memory: Callable[[], int], derived: Callable[[dict[str, float]], dict[str, float]],
                 report: Callable[[], dict | None]) -> None:
        self.store = store
        self.emit = emit
        self.control = control
        self.tokens_seen = tokens_seen
        self.memory = memory
        self.derived = derived
        self.report = report
        self.stopped_at: int | None = None
        self.diverged_at: int | None = None
        self._mark: tuple[float, int] = (time.perf_counter(), 0)
        self._paused_s = 0.0

    def on_train_begin(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kw) -> None:
        self._mark = (time.perf_counter(), self.tokens_seen())
        self._paused_s = 0.0
        self.emit(Status("running", f"Training from step {state.global_step} to {state.max_steps}."))

    def _hold(self, state: TrainerState) -> bool:
        """Block while paused; True when the pause ended because a save was requested."""
        if not self.control.paused or self.control.stopped:
            return False
        began = time.perf_counter()
        self.emit(Status("paused", f"Paused at step {state.global_step}."))
        while self.control.paused and not self.control.stopped:
            self.control.wait_while_paused_or_until_save()
            if self.control.paused and self.control.take_save_request():
                self._paused_s += time.perf_counter() - began
                return True  # the trainer saves now; on_save holds the pause again
        self._paused_s += time.perf_counter() - began
        if not self.control.stopped:
            self.emit(Status("running", f"Resumed at step {state.global_step}."))
        return False

    def on_step_end(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kw) -> None:
        if self._hold(state) or self.control.take_save_request():
            control.should_save = True
        if self.control.stopped:
            self.stopped_at = state.global_step
            control.should_log = True
            control.should_save = True
            control.should_training_stop = True

    def on_log(self, args: TrainingArguments, state: TrainerState, control: TrainerControl,
               logs: dict | None = None, **kw) -> None:
        values = {_RENAMES.get(k, k): float(v) for k, v in (logs or {}).items()
                  if k not in _DROP and isinstance(v, (int, float)) and not isinstance(v, bool)}
        if not values.keys() - {"epoch"}:
            return
        if "train_loss" in values:
            now, tokens = time.perf_counter(), self.tokens_seen()
            elapsed = now - self._mark[0] - self._paused_s
            if elapsed > 0 and tokens > self._mark[1]:
                values["tokens_per_second"] = (tokens - self._mark[1]) / elapsed
            self._mark, self._paused_s = (now, tokens), 0.0
            values["memory_bytes"] = float(self.memory())
            if not math.isfinite(values["train_loss"]) and self.diverged_at is None:
                self.diverged_at = state.global_step
                control.should_training_stop = True
                control.should_save = False  # the weights are no longer numbers; keep the last good checkpoint
        values.update(self.derived(values))
        self.store.log(state.global_step, values)
        self.emit(Metrics(state.global_step, state.max_steps, values))

    def on_evaluate(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kw) -> None:
        body = self.report()
        if body is not None:
            self.store.report(state.global_step, body)
            self.emit(Report(state.global_step, body))

    def on_save(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kw) -> None:
        self.emit(Checkpoint(state.global_step, f"{args.output_dir}/checkpoint-{state.global_step}"))
        while self._hold(state):
            pass  # saved while paused: stay paused; this step's checkpoint already exists


class ProbeCallback(TrainerCallback):
    """Records the probe text's attention at the start and after every evaluation (see attention_probe)."""

    def __init__(self, run_dir: Path, tokenizer: Any, text: str, emit: Listener) -> None:
        self.run_dir = run_dir
        self.tokenizer = tokenizer
        self.text = text
        self.emit = emit

    def _record(self, state: TrainerState, model: Any) -> None:
        from studio.core.attention import probe as attention_probe

        if model is None or any(step == state.global_step for step, _ in attention_probe.recorded(self.run_dir)):
            return
        try:
            attention_probe.record(model, self.tokenizer, self.text, state.global_step, self.run_dir)
        except Exception as exc:  # noqa: BLE001 - a probe must never end a training run
            self.emit(Status("running", f"Could not record the attention probe at step {state.global_step} "
                                        f"({type(exc).__name__}: {exc}); training goes on."))

    def on_train_begin(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kw) -> None:
        self._record(state, kw.get("model"))

    def on_evaluate(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kw) -> None:
        self._record(state, kw.get("model"))

    def on_train_end(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kw) -> None:
        self._record(state, kw.get("model"))
