"""What a person asks of attention heads: aggregates over heads, rollout across layers, and per-head
statistics (entropy, previous-token, first-token and induction scores) to sort and filter them by.

All numpy on [layers, heads, rows, columns] float32 arrays whose rows sum to 1.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from studio.core.modeling import shapes

INDUCTION_LENGTH = 48  # random tokens in the probe, which is read twice


def aggregate(weights: np.ndarray, how: str) -> np.ndarray:
    """'mean' or 'max' over heads: [layers, rows, columns]. Max rows no longer sum to 1 (it is a map)."""
    return weights.mean(axis=1) if how == "mean" else weights.max(axis=1)


def rollout(weights: np.ndarray) -> np.ndarray:
    """Attention rollout (Abnar & Zuidema, 2020): heads averaged, the residual stream added as identity,
    rows renormalised, then multiplied through the layers. Layer i shows what flows to it from the input."""
    layers, _, rows, columns = weights.shape
    if rows != columns:
        raise ValueError("rollout needs self-attention (as many rows as columns)")
    eye = np.eye(rows, dtype=np.float32)
    out = np.empty((layers, rows, columns), dtype=np.float32)
    flow = eye
    for i in range(layers):
        step = 0.5 * weights[i].mean(axis=0) + 0.5 * eye
        step /= step.sum(axis=-1, keepdims=True)
        flow = step @ flow
        out[i] = flow
    return out


def entropy(weights: np.ndarray) -> np.ndarray:
    """Mean entropy (nats) of each head's rows: low is focused, high is spread out. [layers, heads]."""
    # one temporary, worked in place: 12 layers x 12 heads x 512^2 is 150 MB per full-size copy
    terms = np.maximum(weights, 1e-12)
    np.log(terms, out=terms)
    terms *= weights
    return -terms.sum(axis=-1).mean(axis=-1)


def previous_token(weights: np.ndarray) -> np.ndarray:
    """Share of each row's attention on the token just before it (rows 1..T-1), averaged. [layers, heads]."""
    rows = weights.shape[-2]
    if rows < 2 or weights.shape[-1] != rows:
        return np.full(weights.shape[:2], np.nan, dtype=np.float32)
    index = np.arange(1, rows)
    return weights[:, :, index, index - 1].mean(axis=-1)


def first_token(weights: np.ndarray) -> np.ndarray:
    """Share of attention on the first token (the usual 'sink'), averaged over rows. [layers, heads]."""
    return weights[:, :, :, 0].mean(axis=-1)


def head_stats(weights: np.ndarray, induction: np.ndarray | None = None) -> dict[str, np.ndarray]:
    stats = {"entropy": entropy(weights), "previous": previous_token(weights), "first": first_token(weights)}
    stats["induction"] = induction if induction is not None else np.full(weights.shape[:2], np.nan, np.float32)
    return stats


def induction_probe(model: Any, tokenizer: Any, seed: int = 0) -> tuple[list[int], int]:
    """Random ordinary tokens read twice: an induction head, at the second copy, attends to the token that
    followed the current one the first time. Returns the ids and the length of one copy."""
    rng = np.random.default_rng(seed)
    special = set(tokenizer.all_special_ids)
    pool = np.array([i for i in range(len(tokenizer)) if i not in special])
    limit = getattr(model.config, "n_positions", None) or getattr(model.config, "max_position_embeddings", None)
    length = min(INDUCTION_LENGTH, ((limit or 2 * INDUCTION_LENGTH + 2) - 2) // 2)
    copy = rng.choice(pool, size=length, replace=len(pool) < length).tolist()
    return copy + copy, length


def induction_scores(weights: np.ndarray, length: int, offset: int = 0) -> np.ndarray:
    """Mean attention from each position t of the second copy to t - length + 1. [layers, heads].

    `offset` is how many tokens precede the first copy in the rows (1 for a decoder start token).
    """
    rows = np.arange(offset + length, offset + 2 * length)
    return weights[:, :, rows, rows - length + 1].mean(axis=-1)


def induction(model: Any, tokenizer: Any) -> np.ndarray:
    """Induction score of every decoder self-attention head (a decoder-only model's only attention)."""
    from studio.core.attention.extract import forward

    ids, length = induction_probe(model, tokenizer)
    if not model.config.is_encoder_decoder:
        return induction_scores(forward(model, tokenizer, ids).attentions, length)
    att = forward(model, tokenizer, ids[:2], shapes.decoder_sequence(model, ids))
    return induction_scores(att.decoder_attentions, length, offset=1)


def thumbnails(weights: np.ndarray, size: int = 48) -> np.ndarray:
    """Every head shrunk to at most size x size by averaging blocks, each scaled to its own maximum so a
    faint head still shows its pattern. [layers, heads, rows', columns']."""
    out = weights
    for axis in (2, 3):
        n = out.shape[axis]
        if n > size:
            edges = np.linspace(0, n, size + 1).astype(int)[:-1]
            counts = np.diff(np.append(edges, n)).astype(np.float32)
            shape = [1, 1, 1, 1]
            shape[axis] = size
            out = np.add.reduceat(out, edges, axis=axis) / counts.reshape(shape)
    peak = out.max(axis=(2, 3), keepdims=True)
    return (out / np.where(peak > 0, peak, 1)).astype(np.float32)


def summarise(att: Any, induction: np.ndarray | None) -> dict[str, dict[str, Any]]:
    """Per kind of attention (see Attention.views): weights, row and column tokens, thumbnails and head
    statistics. `induction` belongs to decoder self-attention (the only attention of a decoder-only model)."""
    out = {}
    for kind, (weights, rows, columns) in att.views().items():
        scores = induction if kind in ("self", "decoder") else None
        out[kind] = {"weights": weights, "rows": rows, "columns": columns, "thumbs": thumbnails(weights),
                     "stats": head_stats(weights, scores)}
    return out
