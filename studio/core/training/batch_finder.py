"""`--batch-size auto`: the largest batch that trains in the device's memory, found before the first step.

accelerate's `find_executable_batch_size` does the search (shrinking on out-of-memory, which it recognises
for CUDA, MPS, XPU and CPU); what it tries here is one real optimizer step on the longest rows of the data,
so the optimizer's state and the worst padding are counted.
"""

from __future__ import annotations

from typing import Any

START = 256  # the first size tried on a GPU; larger batches rarely train faster per token
CPU_BATCH = 16  # on a CPU memory is seldom the limit and bigger batches only make steps slower
_SAMPLE_ROWS = 4096  # the longest rows are looked for among this many


def longest_rows(dataset: Any) -> list[int]:
    """Indices of the sampled rows, longest first, for a worst-case batch: by all their lists of tokens
    together, whatever the task names them (inputs and labels, a source and a target, a prompt and two answers)."""
    sample = dataset.select(range(min(len(dataset), _SAMPLE_ROWS)))
    lengths = [0] * len(sample)
    lists = [name for name, feature in sample.features.items()
             if type(feature).__name__ in ("List", "LargeList", "Sequence")]
    for column in lists:  # a column at a time, not a row at a time
        lengths = [n + len(ids) for n, ids in zip(lengths, sample[column], strict=True)]
    return sorted(range(len(lengths)), key=lambda i: -lengths[i])


def find(model: Any, dataset: Any, collate: Any, *, device: str, precision: str,
         start: int = START) -> tuple[int, list[int]]:
    """The largest batch from `start` down (as accelerate shrinks it) whose step fits on `device`, and the
    sizes tried."""
    import torch
    from accelerate.utils import find_executable_batch_size, send_to_device
    from accelerate.utils.memory import clear_device_cache

    from studio.core.training.budget import autocast

    order = longest_rows(dataset)
    tried: list[int] = []
    rng = torch.random.get_rng_state()
    cuda_rng = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None

    @find_executable_batch_size(starting_batch_size=start)
    def step(batch_size: int) -> int:
        tried.append(batch_size)
        rows = [dataset[order[i % len(order)]] for i in range(batch_size)]
        optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=0.0, weight_decay=0.0)
        try:
            with autocast(device, precision):
                out = model(**send_to_device(collate(rows), device))
            out.loss.backward()
            optimizer.step()  # allocates Adam's two moments, as the real first step will
        finally:
            optimizer.zero_grad(set_to_none=True)  # accelerate frees the cache before each retry
        return batch_size

    model.to(device)
    was_training = model.training
    model.train()
    try:
        found = step()
    finally:
        clear_device_cache(garbage_collection=True)  # the probe's optimizer state, before the real one
        model.train(was_training)
        torch.random.set_rng_state(rng)
        if cuda_rng is not None:
            torch.cuda.set_rng_state_all(cuda_rng)
    return found, tried


def planned(batch_size: int, device: str) -> int:
    """The batch a plan or an estimate assumes before the run has searched: the size given, or for auto the
    first size the search tries on `device`."""
    return batch_size or (CPU_BATCH if device == "cpu" else START)
