"""The models a person can pick to talk to or inspect: each run's final model and its checkpoints."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from studio.core.runs import store as runs


@dataclass(frozen=True)
class ModelChoice:
    label: str  # what the picker shows
    path: str  # what `inference.load` takes
    run: str
    task: str
    step: int | None  # None for the final model


def model_choices(root: Path) -> list[ModelChoice]:
    """Newest run first; within a run the final model, then checkpoints newest first.

    A run still training lists the checkpoints it has written so far, so a person can try the model
    mid-run (Save Now in the Train panel writes one on request).
    """
    found: list[ModelChoice] = []
    for info in runs.list_runs(root):
        if info.model_dir:
            found.append(ModelChoice(f"{info.name} — final model ({info.status})", info.model_dir, info.name,
                                     info.task, None))
        for checkpoint in reversed(info.checkpoints):
            found.append(ModelChoice(f"{info.name} — checkpoint {checkpoint['step']:,}", checkpoint["path"],
                                     info.name, info.task, checkpoint["step"]))
    return found
