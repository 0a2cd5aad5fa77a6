"""Room on the disk for what a run writes: checked before each checkpoint and before the model is saved, from
sizes already known (the last checkpoint's, or the weights and optimizer state in memory), and said in one
sentence when it is missing or when a write runs out of it anyway. The checkpoints already written are whole
(each is staged and renamed into place), so the sentence names the newest, which resuming continues from."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from studio.core.errors import TrainingError
from studio.core.runs import layout
from studio.core.system import disk, sizes

_SPARE = 1.1  # file headers, the tokenizer and the state files beside the weights
_ADAM_STATES = 2  # Adam keeps two float32 moments for each trained weight


class DiskFull(TrainingError):
    pass


def checkpoint_bytes(run_dir: Path, model: Any) -> int:
    """What the next checkpoint will take: as much as the last one, or the weights and optimizer state."""
    last = layout.latest_checkpoint(run_dir)
    if last is not None:
        return disk.folder_bytes(last[1])
    return weight_bytes(model) + sum(p.numel() * 4 * _ADAM_STATES for p in model.parameters() if p.requires_grad)


def weight_bytes(model: Any) -> int:
    return sum(p.numel() * p.element_size() for p in model.parameters())


def require(run_dir: Path, needed: int, what: str) -> None:
    """Raise `DiskFull` unless the disk holding `run_dir` has room for `needed` bytes (with a margin)."""
    _, free = disk.free_bytes(run_dir)
    if needed * _SPARE > free:
        raise DiskFull(_sentence(run_dir, what, f"needs about {sizes.text(needed * _SPARE)} and "
                                                f"{sizes.text(free)} {'is' if free < 2 else 'are'} free"))


def ran_out(run_dir: Path, what: str) -> DiskFull:
    """The error for a write that ran out of space (the estimate said there was room)."""
    return DiskFull(_sentence(run_dir, what, "ran out of space while it was written; nothing of it was kept"))


def _sentence(run_dir: Path, what: str, problem: str) -> str:
    last = layout.latest_checkpoint(run_dir)
    kept = (f"checkpoint-{last[0]} is complete, so free some space and resume with `studio train --resume "
            f"{run_dir}`" if last else "no checkpoint was written yet, so free some space and start the run again")
    return f"The disk holding {run_dir} is full: {what} {problem}; {kept}."
