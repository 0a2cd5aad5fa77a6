"""Turning text rows into model inputs with `datasets.map` (batched, cached, memory-mapped).

Language modelling follows transformers' run_clm recipe: tokenize every row, end it with `</s>`,
concatenate and cut into blocks of `seq_len`, so no step is wasted on padding. Summarization
truncates source and target to their limits and leaves padding to the collator.

The fingerprints passed to `map` are ours: the progress and stop callbacks make the mapped function
impossible for `datasets` to hash, and without a stable fingerprint nothing would be cached.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from studio.core.control import Control

if TYPE_CHECKING:
    from datasets import Dataset
    from transformers import PreTrainedTokenizerBase

_VERSION = "1"
_BATCH = 1000
_HISTOGRAM_BINS = 20

Progress = Callable[[float], None]


@dataclass
class TokenStats:
    """What a person wants to know about tokenized text before spending time on training."""

    rows: int
    characters: int
    tokens: int
    mean_length: float
    max_length: int
    truncated_share: float  # share of rows longer than the limit (cut, or split across blocks for LM)
    histogram_counts: list[int] = field(default_factory=list)
    histogram_edges: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def tokenizer_fingerprint(tokenizer: PreTrainedTokenizerBase) -> str:
    return hashlib.sha1(tokenizer.backend_tokenizer.to_str().encode()).hexdigest()[:16]


def _fingerprint(*parts: object) -> str:
    return hashlib.sha1("|".join(map(str, (_VERSION, *parts))).encode()).hexdigest()[:16]


def _reporter(total: int, progress: Progress | None, control: Control | None) -> Callable[[int], None]:
    done = 0

    def advance(rows: int) -> None:
        nonlocal done
        if control is not None:
            control.checkpoint()
        done += rows
        if progress is not None:
            progress(min(1.0, done / max(1, total)))

    return advance


def stats(lengths: np.ndarray, characters: int, limit: int) -> TokenStats:
    if len(lengths) == 0:
        return TokenStats(0, characters, 0, 0.0, 0, 0.0)
    counts, edges = np.histogram(lengths, bins=_HISTOGRAM_BINS)
    return TokenStats(rows=int(len(lengths)), characters=int(characters), tokens=int(lengths.sum()),
                      mean_length=float(lengths.mean()), max_length=int(lengths.max()),
                      truncated_share=float((lengths > limit).mean()),
                      histogram_counts=counts.tolist(), histogram_edges=edges.tolist())


def _map(ds: Dataset, fn: Callable, fingerprint: str, remove: list[str]) -> Dataset:
    """A batched map over Arrow tables in and out, so no row is turned into Python objects and back."""
    out = ds.with_format("arrow").map(fn, batched=True, batch_size=_BATCH, remove_columns=remove,
                                      new_fingerprint=fingerprint, desc=None, load_from_cache_file=True)
    return out.with_format(None)


def _encode(tokenizer: PreTrainedTokenizerBase, texts: list[str | None]) -> list[list[int]]:
    texts = [t or "" for t in texts]
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:  # the Rust encoder directly: no BatchEncoding or attention masks to build
        return [e.ids for e in backend.encode_batch(texts, add_special_tokens=False)]
    return tokenizer(texts, add_special_tokens=False)["input_ids"]


def _list_array(rows: list[list[int]], tail: int | None = None) -> pa.ListArray:
    """Token rows as one Arrow list array built from a flat buffer.

    Handing `datasets` Python lists makes it inspect every element before writing (most of the
    preparation time on a 6 MB corpus); an Arrow array is written as it is.
    """
    lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
    if tail is not None:
        rows = [r + [tail] for r in rows]
        lengths += 1
    flat = np.fromiter(itertools.chain.from_iterable(rows), dtype=np.int32, count=int(lengths.sum()))
    offsets = np.zeros(len(rows) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(flat))


def prepare_lm(ds: Dataset, tokenizer: PreTrainedTokenizerBase, text_column: str, seq_len: int, *,
               lines: bool = False, progress: Progress | None = None,
               control: Control | None = None) -> tuple[Dataset, TokenStats]:
    """Blocks of `seq_len` token ids (`input_ids`) and statistics of the rows they came from.

    Rows are documents ended by `</s>`; with `lines` (a .txt file, one row per line) they are lines of
    one text, ended by the newline `datasets` took off, so paragraphs and code keep their shape.
    """
    eos = tokenizer.eos_token_id
    advance = _reporter(len(ds), progress, control)

    def encode(batch: pa.Table) -> pa.Table:
        texts = batch.column(text_column).to_pylist()
        ids = _encode(tokenizer, [(t or "") + "\n" for t in texts] if lines else texts)
        advance(len(texts))
        return pa.table({"ids": _list_array(ids, tail=None if lines else eos), "chars": pa.array([len(t or "") for t in texts], pa.int64())})

    tok_fp = tokenizer_fingerprint(tokenizer)
    encoded = _map(ds, encode, _fingerprint(ds._fingerprint, tok_fp, text_column, lines, "encode"), ds.column_names)
    row_stats = stats(_list_lengths(encoded, "ids"), _column_sum(encoded, "chars"), seq_len)

    def group(batch: pa.Table) -> pa.Table:
        flat = batch.column("ids").combine_chunks().flatten().to_numpy()
        usable = (len(flat) // seq_len) * seq_len
        blocks = pa.FixedSizeListArray.from_arrays(pa.array(flat[:usable]), seq_len)
        return pa.table({"input_ids": blocks})

    blocks = _map(encoded, group, _fingerprint(encoded._fingerprint, seq_len, "group"), encoded.column_names)
    return blocks, row_stats


def _list_lengths(ds: Dataset, column: str) -> np.ndarray:
    import pyarrow.compute as pc

    lengths = pc.list_value_length(ds.with_format("arrow")[column])
    return np.asarray(lengths.to_numpy(), dtype=np.int64)


def _int_column(ds: Dataset, column: str) -> np.ndarray:
    return np.asarray(ds.with_format("arrow")[column].to_numpy(), dtype=np.int64)


def _column_sum(ds: Dataset, column: str) -> int:
    import pyarrow.compute as pc

    return int(pc.sum(ds.with_format("arrow")[column]).as_py() or 0)


def prepare_seq2seq(ds: Dataset, tokenizer: PreTrainedTokenizerBase, source: str, target: str,
                    max_source_len: int, max_target_len: int, *, progress: Progress | None = None,
                    control: Control | None = None) -> tuple[Dataset, TokenStats, TokenStats]:
    """`input_ids`/`labels` truncated to their limits (each ending in `</s>`), with source and target stats."""
    eos = tokenizer.eos_token_id
    advance = _reporter(len(ds), progress, control)

    def encode(batch: pa.Table) -> pa.Table:
        sources, targets = batch.column(source).to_pylist(), batch.column(target).to_pylist()
        src, tgt = _encode(tokenizer, sources), _encode(tokenizer, targets)
        advance(len(src))
        return pa.table({
            "input_ids": _list_array([r[: max_source_len - 1] + [eos] for r in src]),
            "labels": _list_array([r[: max_target_len - 1] + [eos] for r in tgt]),
            "src_len": pa.array([len(r) + 1 for r in src], pa.int64()),
            "tgt_len": pa.array([len(r) + 1 for r in tgt], pa.int64()),
            "src_chars": pa.array([len(t or "") for t in sources], pa.int64()),
            "tgt_chars": pa.array([len(t or "") for t in targets], pa.int64()),
        })

    fp = _fingerprint(ds._fingerprint, tokenizer_fingerprint(tokenizer), source, target, max_source_len,
                      max_target_len, "seq2seq")
    encoded = _map(ds, encode, fp, ds.column_names)
    src_stats = stats(_int_column(encoded, "src_len"), _column_sum(encoded, "src_chars"), max_source_len)
    tgt_stats = stats(_int_column(encoded, "tgt_len"), _column_sum(encoded, "tgt_chars"), max_target_len)
    extra = ["src_len", "tgt_len", "src_chars", "tgt_chars"]
    return encoded.remove_columns(extra), src_stats, tgt_stats
