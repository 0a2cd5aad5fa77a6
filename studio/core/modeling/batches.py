"""Running a model over many texts in batches, shortest first, so padding costs little.

Pipelines pad each batch in the order given; sorting by length first keeps nearly every batch free
of padding, which is most of the batch-mode speed-up on a CPU.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from studio.core.control import Control
from studio.core.data.encoding import encode


def softmax(scores: np.ndarray) -> np.ndarray:
    """Probabilities from logits along the last axis, computed stably."""
    shifted = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def length_batches(ids: list[list[int]], batch_size: int, pad: int) -> Iterator[tuple[np.ndarray, Any, Any]]:
    """Batches of the sequences in `ids`, shortest first: (their positions in `ids`, padded input ids,
    attention mask), as CPU tensors."""
    import torch

    order = np.argsort([len(i) for i in ids], kind="stable")
    for start in range(0, len(order), batch_size):
        chosen = order[start:start + batch_size]
        width = max(len(ids[i]) for i in chosen)
        batch = torch.full((len(chosen), width), pad, dtype=torch.long)
        mask = torch.zeros((len(chosen), width), dtype=torch.long)
        for row, i in enumerate(chosen):
            batch[row, :len(ids[i])] = torch.tensor(ids[i])
            mask[row, :len(ids[i])] = 1
        yield chosen, batch, mask


def logits(model: Any, tokenizer: Any, texts: list[str], *, limit: int, batch_size: int = 32,
           progress: Callable[[float], None] | None = None, control: Control | None = None) -> np.ndarray:
    """The model's output logits for each text, [len(texts), ...], in the order of `texts`.

    Texts are encoded with the tokenizer's template and cut to `limit` tokens.
    """
    import torch

    ids = encode(tokenizer, texts, limit=limit)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    device = next(model.parameters()).device
    out: list[np.ndarray] = [np.empty(0)] * len(texts)
    done = 0
    for chosen, batch, mask in length_batches(ids, batch_size, pad):
        if control is not None:
            control.checkpoint()
        with torch.inference_mode():
            result = model(input_ids=batch.to(device), attention_mask=mask.to(device)).logits.float().cpu().numpy()
        for row, i in enumerate(chosen):
            out[i] = result[row]
        done += len(chosen)
        if progress is not None:
            progress(done / len(texts))
    return np.stack(out) if out else np.empty((0, 0), np.float32)
