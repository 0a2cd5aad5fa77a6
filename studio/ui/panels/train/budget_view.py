"""How long a run will take on this machine, or what a time budget buys, shown in the wizard before the start.

A preset is timed in the background on full-length batches of random tokens (no data needed); the
timing is kept per shape, so changing only the steps or minutes re-plans at once. A run counted in steps
gets its duration, and a warning with the way out (a budget) when that is long; on a GPU the bigger presets
of the same family are timed too and proposed when they fit the same budget. `said(text, long)` carries what
is shown to the review page.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel

from studio.core.errors import ConfigError, StudioError
from studio.core.modeling.presets import PRESETS
from studio.core.system import sizes
from studio.core.tasks import registry
from studio.core.training import budget
from studio.core.training.config import RunConfig
from studio.ui.jobs import Latest
from studio.ui.widgets.messages import mark_warning

LONG_S = 15 * 60  # a run longer than this is worth a warning before it starts


class BudgetEstimate(QLabel):
    said = Signal(str, bool)  # what is shown, and whether the run is long

    def __init__(self) -> None:
        super().__init__(objectName="budgetEstimate", wordWrap=True)
        self._timings: dict[tuple, tuple[str, dict[str, budget.Timing], str]] = {}
        self._jobs = Latest(self)
        self._wanted: RunConfig | None = None

    @staticmethod
    def _key(c: RunConfig) -> tuple:
        return (c.task, c.model, c.vocab_size, c.seq_len, tuple(sorted(c.options.items())), c.batch_size,
                c.grad_accum, c.eval_rows, c.device, c.precision, c.lora and (c.lora_r, c.lora_targets),
                c.gradient_checkpointing)

    def say(self, text: str, long: bool = False) -> None:
        self.setText(text)
        mark_warning(self, long)
        self.said.emit(text, long)

    def show_for(self, c: RunConfig | None) -> None:
        """Show the plan for `c`, or for a run counted in steps how long it takes (timing it first when its shape
        is new)."""
        self._wanted = c
        if c is None:
            self.say("")
            return
        known = self._timings.get(self._key(c))
        if known is not None:
            self._show(c, *known)
            return
        self.say("Timing a few steps on this machine…")
        if not self._jobs.running:
            self._time(c)

    def _time(self, c: RunConfig) -> None:
        def work(progress: Any, control: Any) -> tuple[str, dict[str, budget.Timing], str]:
            from studio.core.system import device as devices
            from studio.core.system.load import busy_note

            device = devices.pick_device(c.device)
            precision = devices.pick_precision(device, c.precision)
            timings = {c.model: budget.preview(c, device, precision)}
            if device != "cpu" and c.model in PRESETS:
                for bigger in budget.larger_presets(c.model, registry.get(c.task).presets):
                    timings[bigger] = budget.preview(dataclasses.replace(c, model=bigger), device, precision)
            return devices.describe(device), timings, busy_note(device)

        key = self._key(c)
        self._jobs.start(work, done=lambda result: self._timed(key, result),
                         failed=lambda text: self.say(f"Could not time this model here: {text}"))

    def _timed(self, key: tuple, result: tuple[str, dict[str, budget.Timing], str]) -> None:
        self._timings[key] = result
        self.show_for(self._wanted)  # the settings may have changed while it was timing

    def _show(self, c: RunConfig, device: str, timings: dict[str, budget.Timing], busy: str) -> None:
        if not c.minutes:
            self._show_duration(c, device, timings[c.model], busy)
            return
        try:
            plan = budget.plan(c.minutes * 60, timings[c.model], c.minutes)
        except ConfigError as exc:
            self.say(str(exc))
            return
        t = plan.timing
        lines = [(f"Timed on {device} with full-length batches: a step takes {t.step_s:.3g} s and an evaluation "
                  f"{t.eval_s:.3g} s, so about {plan.steps:,} steps fit, evaluated every {plan.eval_every:,}. The run "
                  "times its real batches when it starts (often shorter, so more steps).")]
        few = plan.few_steps(RunConfig.for_task(c.task).max_steps)
        lines += [said for said in (few, busy) if said]
        for bigger, timing in timings.items():
            if bigger == c.model:
                continue
            try:
                more = budget.plan(c.minutes * 60, timing, c.minutes)
            except StudioError:
                continue
            size = PRESETS[bigger].size
            lines.append(f"This {device} also fits {more.steps:,} steps of {bigger} ({size['layers']} layers × "
                         f"{size['width']} wide) in the same time: a bigger model learns more from each step, so it "
                         "usually ends with a lower validation loss. Choose it on the Model page.")
        self.say("\n".join(lines), bool(few))

    def _show_duration(self, c: RunConfig, device: str, timing: budget.Timing, busy: str) -> None:
        seconds = budget.seconds_for(timing, c.max_steps, c.eval_every, c.save_every)
        text = (f"About {sizes.duration(seconds)} on {device} for {c.max_steps:,} steps (timed here: a step "
                f"{timing.step_s:.3g} s, an evaluation {timing.eval_s:.3g} s; preparing the data comes first).")
        long = seconds > LONG_S
        if long:
            text += (" That is long: to see a result sooner, set Train for to Minutes and give the time you have; "
                     "Studio fits the steps to it.")
        self.say(" ".join(part for part in (text, busy) if part), long)
