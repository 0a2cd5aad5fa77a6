"""The models a person can pick to talk to or inspect: each run's final model and its checkpoints."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from studio.core.runs import reader


@dataclass(frozen=True)
class ModelChoice:
    path: str  # what `tasks.loaded.load` takes
    run: str  # the run's folder name
    run_dir: str
    model: str  # what the run trained from: a preset, a folder, a hub id
    task: str
    step: int | None  # None for the final model
    started: float | None
    status: str
    adapter: bool = False  # a LoRA adapter applied to its base, unmerged


def model_choices(root: Path) -> list[ModelChoice]:
    """Newest run first; within a run the final model, then checkpoints newest first.

    A run still training lists the checkpoints it has written so far, so a person can try the model
    mid-run (Save Now in the Train panel writes one on request).
    """
    found: list[ModelChoice] = []
    for info in reader.list_runs(root):
        common = dict(run=info.name, run_dir=info.path, model=Path(info.model).name or info.model, task=info.task,
                      started=info.started, status=info.status)
        if info.model_dir:
            found.append(ModelChoice(path=info.model_dir, step=None, **common))
        if info.adapter_dir:
            found.append(ModelChoice(path=info.adapter_dir, step=None, adapter=True, **common))
        for checkpoint in reversed(info.checkpoints):
            found.append(ModelChoice(path=checkpoint["path"], step=checkpoint["step"], **common))
    return found
