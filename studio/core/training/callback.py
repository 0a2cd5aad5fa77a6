"""The bridge between Hugging Face Trainer and Studio: it reports, and it steers.

Reports: every Trainer log becomes one row per metric in the run store and one `Metrics` event, with
throughput, memory and the time left added. Steers: at each step boundary it honours pause (blocks on
an Event, no polling), save-now and stop (save a checkpoint, then end the loop through
`should_training_stop`), and a time budget's deadline (evaluate and save, then end). In a run of
several processes only the main one hears the person; every step, the others take its decisions.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

from studio.core.control import Control
from studio.core.runs.writer import RunStore
from studio.core.training import processes
from studio.core.training.budget import Timing, intervals_left
from studio.core.training.events import Checkpoint, Listener, Metrics, Report, Status, Step

_RENAMES = {"loss": "train_loss"}
_BEAT_S = 5.0
_STEP_EVERY_S = 0.25  # Step events at most this often: the monitor redraws at 10 Hz anyway
_DROP = {"total_flos", "train_runtime", "train_samples_per_second", "train_steps_per_second", "train_loss",
         "eval_runtime", "eval_samples_per_second", "eval_steps_per_second", "num_input_tokens_seen"}


class BridgeCallback(TrainerCallback):
    def __init__(self, store: RunStore, emit: Listener, control: Control, *, tokens_seen: Callable[[], int],
                 memory: Callable[[], int], derived: Callable[[dict[str, float]], dict[str, float]],
                 report: Callable[[], dict | None], deadline: float | None = None,
                 timing: Timing | None = None) -> None:
        """`deadline` (time.monotonic()) ends training when passed, pauses not counted; `timing` is a
        calibration's estimate of an evaluation and a checkpoint, for the time left before the first."""
        self.store = store
        self.emit = emit
        self.control = control
        self.tokens_seen = tokens_seen
        self.memory = memory
        self.derived = derived
        self.report = report
        self.stopped_at: int | None = None
        self.diverged_at: int | None = None
        self.out_of_time_at: int | None = None
        self._mark: tuple[float, int] = (time.perf_counter(), 0)
        self._paused_s = 0.0
        self._deadline = deadline
        self._clock = _Clock(timing)
        self._owed_save = False
        self._step_sent = 0.0

    def on_train_begin(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kw) -> None:
        self._mark = (time.perf_counter(), self.tokens_seen())
        self._paused_s = 0.0
        self._clock.begin()
        self.emit(Status("running", f"Training from step {state.global_step} to {state.max_steps}."))

    def _agreed(self, state: TrainerState) -> _Steer:
        c = self.control
        late = self._deadline is not None and time.monotonic() > self._deadline and state.global_step < state.max_steps
        stop, save, paused, late = processes.agree([c.stopped, c.take_save_request(), c.paused and not c.stopped, late])
        return _Steer(bool(stop), bool(save), bool(paused), bool(late))

    def _steer(self, state: TrainerState, saved: bool = False) -> _Steer:
        """What the person asked for, as the main process heard it, on every process; waits out a pause.
        A save asked for while paused ends the wait with the pause still on (the trainer saves, then
        on_save waits again)."""
        steer = self._agreed(state)
        if not steer.paused or steer.save:
            return steer
        began = time.perf_counter()
        # after Save Now while paused the checkpoint message would be replaced at once: say both
        note = "; its checkpoint is saved" if saved else ""
        self.emit(Status("paused", f"Paused at step {state.global_step}{note}.", state.global_step))
        while steer.paused and not steer.stop and not steer.save:
            # the other processes wait in the next agreement; waking them every few seconds keeps a long
            # pause inside the collectives' timeout
            self.control.wait_while_paused_or_until_save(_BEAT_S if processes.several() else None)
            steer = self._agreed(state)
        self._paused(time.perf_counter() - began)
        if not steer.stop and not steer.paused:
            self.emit(Status("running", f"Resumed at step {state.global_step}.", state.global_step))
        return steer

    def on_step_end(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kw) -> None:
        steer = self._steer(state)
        if steer.save or self._owed_save:
            control.should_save = True
            self._owed_save = False
        if steer.stop:
            self.stopped_at = state.global_step
            control.should_log = True
            control.should_save = True
            control.should_training_stop = True
        elif steer.late:
            self.out_of_time_at = state.global_step
            control.should_log = control.should_evaluate = control.should_save = True
            control.should_training_stop = True
        if control.should_evaluate:  # set by Trainer's flow callback, which runs before this one
            # a summarizer's evaluation generates text and can take a while: say what the run is doing
            self.emit(Status("running", f"Evaluating at step {state.global_step:,}…", state.global_step))
        self._clock.step_ended(state.global_step)
        now = time.monotonic()
        if now - self._step_sent >= _STEP_EVERY_S or control.should_training_stop:
            self._step_sent = now
            self.emit(Step(state.global_step, state.max_steps, self._left(args, state)))

    def _left(self, args: TrainingArguments, state: TrainerState) -> float | None:
        """Seconds to the end: steps, evaluations and checkpoints to come, within a time budget's deadline."""
        left = self._clock.left(state.global_step, state.max_steps, args.eval_steps, args.save_steps)
        if left is not None and self._deadline is not None:
            left = min(left, max(0.0, self._deadline - time.monotonic()) + self._clock.eval_s + self._clock.save_s)
        return left

    def _paused(self, seconds: float) -> None:
        self._paused_s += seconds
        self._clock.paused()
        if self._deadline is not None:
            self._deadline += seconds  # a pause is the person's time, not the budget's

    def on_log(self, args: TrainingArguments, state: TrainerState, control: TrainerControl,
               logs: dict | None = None, **kw) -> None:
        if "eval_runtime" in (logs or {}):
            self._clock.evaluated(float(logs["eval_runtime"]))
        values = {_RENAMES.get(k, k): float(v) for k, v in (logs or {}).items()
                  if k not in _DROP and isinstance(v, (int, float)) and not isinstance(v, bool)}
        if not values.keys() - {"epoch"}:
            return
        if "train_loss" in values:
            now, tokens = time.perf_counter(), self.tokens_seen()
            elapsed = now - self._mark[0] - self._paused_s
            if elapsed > 0 and tokens > self._mark[1]:
                # each process counts its own batches, which are as big as the main one's (padding aside):
                # multiplying costs no collective, where summing the counts would cost one per log
                values["tokens_per_second"] = (tokens - self._mark[1]) * processes.count() / elapsed
            self._mark, self._paused_s = (now, tokens), 0.0
            values["memory_bytes"] = float(self.memory())
            if not math.isfinite(values["train_loss"]) and self.diverged_at is None:
                self.diverged_at = state.global_step
                control.should_training_stop = True
                control.should_save = False  # the weights are no longer numbers; keep the last good checkpoint
        values.update(self.derived(values))
        self.store.log(state.global_step, values)
        self.emit(Metrics(state.global_step, state.max_steps, values, self._left(args, state)))

    def on_evaluate(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kw) -> None:
        body = self.report()
        if body is not None:
            self.store.report(state.global_step, body)
            self.emit(Report(state.global_step, body))

    def on_save(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kw) -> None:
        self._clock.saved()
        self.emit(Checkpoint(state.global_step, f"{args.output_dir}/checkpoint-{state.global_step}"))
        steer = self._steer(state, saved=True)
        while steer.save and steer.paused:
            steer = self._steer(state, saved=True)  # saved while paused: stay paused; this step's checkpoint already exists
        self._owed_save = steer.save  # asked for as the pause ended: the next step saves


class _Steer(NamedTuple):
    stop: bool
    save: bool
    paused: bool
    late: bool  # past the time budget's deadline


class _Clock:
    """The time a run has left: steps at their recent pace plus the evaluations and checkpoints to come.

    A step's pace is the time between two step ends with no evaluation, checkpoint or pause in between;
    an evaluation's, Trainer's own `eval_runtime`. Counting only steps (as a progress bar does) makes a
    summarizer's ETA far too short: its evaluations generate text and can take a quarter of the run.
    """

    _SMOOTHING = 0.1

    def __init__(self, timing: Timing | None) -> None:
        self.step_s: float | None = None
        self.eval_s = timing.eval_s if timing else 0.0
        self.save_s = timing.save_s if timing else 0.0
        self._last: tuple[float, int] | None = None
        self._save_began: float | None = None

    def begin(self) -> None:
        self._last = None

    def step_ended(self, step: int) -> None:
        now = time.perf_counter()
        if self._last is not None and step > self._last[1]:
            pace = (now - self._last[0]) / (step - self._last[1])
            self.step_s = pace if self.step_s is None else self.step_s + self._SMOOTHING * (pace - self.step_s)
        self._last = (now, step)
        self._save_began = now

    def paused(self) -> None:
        self._last = self._save_began = None

    def evaluated(self, seconds: float) -> None:
        self.eval_s = seconds
        self._last = None
        self._save_began = time.perf_counter()  # a checkpoint at this step is written after its evaluation

    def saved(self) -> None:
        if self._save_began is not None:
            self.save_s = time.perf_counter() - self._save_began
        self._last = None

    def left(self, step: int, last: int, eval_every: Any, save_every: Any) -> float | None:
        if self.step_s is None:
            return None
        evaluations = intervals_left(step, last, int(eval_every or last))
        saves = intervals_left(step, last, int(save_every or last))
        return (last - step) * self.step_s + evaluations * self.eval_s + saves * self.save_s


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
