"""What the training engine tells its listeners (the CLI's progress bar, the window's monitor).

Plain dataclasses only, so they cross from the engine's thread to the UI without dragging torch along.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Stage:
    """Preparation before the first step: `name` is data, tokenizer, tokenize, batch, budget, model,
    checkpoint or save."""

    name: str
    message: str
    fraction: float | None = None  # None when the stage cannot tell how far it is


@dataclass(frozen=True)
class RunStarted:
    """The run folder exists: where its config, metrics and checkpoints are being written."""

    path: str


@dataclass(frozen=True)
class Metrics:
    step: int
    planned_steps: int
    values: dict[str, float] = field(default_factory=dict)
    seconds_left: float | None = None  # steps, evaluations and checkpoints to come; None until a pace is known


@dataclass(frozen=True)
class Step:
    """Where the run is between logged steps: sent after a step at most a few times a second, whatever the
    logging interval, so a slow model's progress and time left move with every step."""

    step: int
    planned_steps: int
    seconds_left: float | None = None  # as in Metrics


@dataclass(frozen=True)
class Report:
    """An evaluation's findings beyond numbers (a classifier's confusion matrix and mistakes)."""

    step: int
    body: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Samples:
    """What the model answered to the sample prompts at an evaluation: {"prompt", "output", "reference"}."""

    step: int
    answers: list = field(default_factory=list)


@dataclass(frozen=True)
class Checkpoint:
    step: int
    path: str


@dataclass(frozen=True)
class Status:
    """running, paused, completed, stopped or failed, with a sentence for the person."""

    status: str
    message: str = ""
    step: int | None = None  # the step it happened at, for a monitor whose step is shown between logged steps


Event = Stage | RunStarted | Metrics | Step | Report | Samples | Checkpoint | Status
Listener = Callable[[Event], None]
