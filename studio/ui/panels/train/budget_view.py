"""What a time budget buys on this machine, shown in the wizard before the start.

A preset is timed in the background on full-length batches of random tokens (no data needed); the
timing is kept per shape, so changing only the minutes re-plans at once. On a GPU the bigger presets of
the same family are timed too and proposed when they fit the same budget.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from PySide6.QtWidgets import QLabel

from studio.core.errors import ConfigError, StudioError
from studio.core.modeling.presets import PRESETS
from studio.core.tasks import registry
from studio.core.training import budget
from studio.core.training.config import RunConfig
from studio.ui.jobs import Latest


class BudgetEstimate(QLabel):
    def __init__(self) -> None:
        super().__init__(objectName="budgetEstimate", wordWrap=True)
        self._timings: dict[tuple, tuple[str, dict[str, budget.Timing]]] = {}
        self._jobs = Latest(self)
        self._wanted: RunConfig | None = None

    @staticmethod
    def _key(c: RunConfig) -> tuple:
        return (c.task, c.model, c.vocab_size, c.seq_len, tuple(sorted(c.options.items())), c.batch_size,
                c.grad_accum, c.eval_rows, c.device, c.precision)

    def show_for(self, c: RunConfig | None) -> None:
        """Show the plan for `c` (timing it first when its shape is new); nothing without a budget."""
        self._wanted = c
        if c is None or not c.minutes:
            self.clear()
            return
        if c.model not in PRESETS:
            self.setText("When the run starts, Studio times a few steps of this model on its real batches and fits "
                         "the steps, evaluations and checkpoints into the budget; the plan shows before the first step.")
            return
        known = self._timings.get(self._key(c))
        if known is not None:
            self._show(c, *known)
            return
        self.setText("Timing a few steps on this machine…")
        if not self._jobs.running:
            self._time(c)

    def _time(self, c: RunConfig) -> None:
        def work(progress: Any, control: Any) -> tuple[str, dict[str, budget.Timing]]:
            from studio.core.system import device as devices

            device = devices.pick_device(c.device)
            precision = devices.pick_precision(device, c.precision)
            timings = {c.model: budget.preview(c, device, precision)}
            if device != "cpu":
                for bigger in budget.larger_presets(c.model, registry.get(c.task).presets):
                    timings[bigger] = budget.preview(dataclasses.replace(c, model=bigger), device, precision)
            return devices.describe(device), timings

        key = self._key(c)
        self._jobs.start(work, done=lambda result: self._timed(key, result),
                         failed=lambda text: self.setText(f"Could not time this model here: {text}"))

    def _timed(self, key: tuple, result: tuple[str, dict[str, budget.Timing]]) -> None:
        self._timings[key] = result
        self.show_for(self._wanted)  # the settings may have changed while it was timing

    def _show(self, c: RunConfig, device: str, timings: dict[str, budget.Timing]) -> None:
        try:
            plan = budget.plan(c.minutes * 60, timings[c.model], c.minutes)
        except ConfigError as exc:
            self.setText(str(exc))
            return
        t = plan.timing
        lines = [(f"Timed on {device} with full-length batches: a step takes {t.step_s:.3g} s and an evaluation "
                  f"{t.eval_s:.3g} s, so about {plan.steps:,} steps fit, evaluated every {plan.eval_every:,}. The run "
                  "times its real batches when it starts (often shorter, so more steps).")]
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
        self.setText("\n".join(lines))
