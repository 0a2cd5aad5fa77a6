"""What one training process needs to know and do about the others when a run has several.

A run of several processes is started by accelerate's launcher (see launch.py); each process runs the
same engine. These helpers are no-ops in a run of one process, so the engine reads the same either way.
Only the main process writes the run folder; the others train and stay silent.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from datetime import timedelta

# A paused run waits inside a collective on every process but the main one; the main process wakes
# them every few seconds (see callback.BridgeCallback), so this only has to outlast the longest step,
# evaluation or checkpoint, which on a big model can exceed torch's 30-minute default.
_TIMEOUT = timedelta(hours=6)


def several() -> bool:
    """True inside a process started by the launcher for a run of more than one process."""
    return count() > 1


def start(device: str) -> None:
    """Join the other processes (gloo on a CPU, NCCL on CUDA) before anything else touches torch.distributed."""
    if several():
        from accelerate import PartialState

        PartialState(cpu=device == "cpu", timeout=_TIMEOUT)


def count() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def rank() -> int:
    return int(os.environ.get("RANK", "0"))


def is_main() -> bool:
    return rank() == 0


def wait_for_everyone() -> None:
    if several():
        from accelerate import PartialState

        PartialState().wait_for_everyone()


@contextlib.contextmanager
def main_first() -> Iterator[None]:
    """The main process runs the block first (filling caches, saving the tokenizer), then the others."""
    if not several():
        yield
        return
    if not is_main():
        wait_for_everyone()
    yield
    if is_main():
        wait_for_everyone()


def agree(values: list[int]) -> list[int]:
    """The main process's `values` on every process: it alone hears the person (stop, pause, save)."""
    if not several():
        return values
    import torch
    from accelerate import PartialState
    from accelerate.utils import broadcast

    tensor = torch.tensor(values, dtype=torch.int64, device=PartialState().device)
    return [int(v) for v in broadcast(tensor, from_process=0).tolist()]


def smallest(value: int) -> int:
    """The smallest of every process's `value` (a batch size that fits on each GPU)."""
    if not several():
        return value
    from accelerate.utils import gather_object

    return min(gather_object([value]))
