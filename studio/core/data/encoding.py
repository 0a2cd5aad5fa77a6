"""Turning text columns into token ids with `datasets.map` (batched, cached, memory-mapped), and the
statistics a person wants before training. Each task builds its model inputs from these pieces.

Texts are encoded through the tokenizer's own special-token template, as `tokenizer(text)` does, with
truncation that keeps the template's closing token. The fingerprints passed to `map` are ours: the
progress and stop callbacks make the mapped function impossible for `datasets` to hash, and without a
stable fingerprint nothing would be cached.
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

_VERSION = "2"
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


def fingerprint(ds: Dataset, tokenizer: PreTrainedTokenizerBase, *parts: object) -> str:
    """A cache key for mapping `ds` with `tokenizer` and the settings in `parts`."""
    key = (_VERSION, ds._fingerprint, tokenizer_fingerprint(tokenizer), *parts)
    return hashlib.sha1("|".join(map(str, key)).encode()).hexdigest()[:16]


def reporter(total: int, progress: Progress | None, control: Control | None) -> Callable[[int], None]:
    """`advance(rows)` for a mapped function: checks for a stop and reports the share of rows done."""
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


def arrow_map(ds: Dataset, fn: Callable[[pa.Table], pa.Table], key: str, remove: list[str]) -> Dataset:
    """A batched map over Arrow tables in and out, so no row is turned into Python objects and back."""
    out = ds.with_format("arrow").map(fn, batched=True, batch_size=_BATCH, remove_columns=remove,
                                      new_fingerprint=key, desc=None, load_from_cache_file=True)
    return out.with_format(None)


def frame(tokenizer: PreTrainedTokenizerBase, *, target: bool = False) -> tuple[list[int], list[int]]:
    """The special ids the tokenizer's template puts before and after one text: ([CLS], [SEP]) for BERT,
    ([<s>], [</s>]) for BART, ([], [</s>]) for T5, ([], []) for GPT-2. With `target`, a seq2seq target's:
    a multilingual tokenizer (NLLB, M2M100, mBART-50) marks it with the target language, not the source's.

    Read off by encoding a probe with and without the template, so any tokenizer's own post-processor
    decides, not a table of ours.
    """
    with_specials = tokenizer(text_target="a")["input_ids"] if target else tokenizer("a")["input_ids"]
    plain = tokenizer("a", add_special_tokens=False)["input_ids"]
    for start in range(len(with_specials) - len(plain) + 1):
        if with_specials[start:start + len(plain)] == plain:
            return with_specials[:start], with_specials[start + len(plain):]
    return [], []


def encode(tokenizer: PreTrainedTokenizerBase, texts: list[str | None], *, specials: bool = True,
           limit: int | None = None, target: bool = False) -> list[list[int]]:
    """Token ids of each text, framed by the template when `specials`, cut to `limit` ids in all.

    The content is cut, never the frame, so a truncated BART source still ends in `</s>` as
    `tokenizer(text, truncation=True, max_length=limit)` would give.
    """
    texts = [t or "" for t in texts]
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:  # the Rust encoder directly: no BatchEncoding or attention masks to build
        ids = [e.ids for e in backend.encode_batch(texts, add_special_tokens=False)]
    else:
        ids = tokenizer(texts, add_special_tokens=False)["input_ids"]
    head, tail = frame(tokenizer, target=target) if specials else ([], [])
    if head or tail:
        ids = [head + r + tail for r in ids]
    if limit is None:
        return ids
    return cut(tokenizer, ids, limit, target=target) if specials else [r[:limit] for r in ids]


def encode_with_offsets(tokenizer: PreTrainedTokenizerBase, texts: list[str | None], *, specials: bool = True
                        ) -> tuple[list[list[int]], list[list[tuple[int, int]]]]:
    """Token ids of each text with each token's character span in it ((0, 0) for template tokens)."""
    texts = [t or "" for t in texts]
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        encoded = backend.encode_batch(texts, add_special_tokens=specials)
        return [e.ids for e in encoded], [e.offsets for e in encoded]
    out = tokenizer(texts, add_special_tokens=specials, return_offsets_mapping=True)
    return out["input_ids"], [[tuple(p) for p in row] for row in out["offset_mapping"]]


def cut(tokenizer: PreTrainedTokenizerBase, rows: list[list[int]], limit: int, *, keep: str = "start",
        target: bool = False) -> list[list[int]]:
    """Framed rows of ids no longer than `limit`: the content is cut, the template's tokens around it stay.

    `keep` is "start" (a source: its beginning matters) or "end" (a prompt: the model continues its end);
    `target`: the rows are framed as seq2seq targets.
    """
    head, tail = frame(tokenizer, target=target)
    room = max(1, limit - len(head) - len(tail))

    def one(row: list[int]) -> list[int]:
        if len(row) <= limit:
            return row
        content = row[len(head):len(row) - len(tail)]
        return head + (content[:room] if keep == "start" else content[-room:]) + tail

    return [one(r) for r in rows]


def list_array(rows: list[list[int]], tail: int | None = None) -> pa.ListArray:
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


def lengths(rows: list[list[int]]) -> pa.Array:
    return pa.array([len(r) for r in rows], pa.int64())


def characters(texts: list[str | None]) -> pa.Array:
    return pa.array([len(t or "") for t in texts], pa.int64())


def list_lengths(ds: Dataset, column: str) -> np.ndarray:
    import pyarrow.compute as pc

    return np.asarray(pc.list_value_length(ds.with_format("arrow")[column]).to_numpy(), dtype=np.int64)


def int_column(ds: Dataset, column: str) -> np.ndarray:
    return np.asarray(ds.with_format("arrow")[column].to_numpy(), dtype=np.int64)


def column_sum(ds: Dataset, column: str) -> int:
    import pyarrow.compute as pc

    return int(pc.sum(ds.with_format("arrow")[column]).as_py() or 0)


def counted(rows: Dataset, encoded: Dataset, limit: int, name: str, plural: str, cut_note: str,
            lost_note: str) -> tuple[Dataset, dict[str, Any]]:
    """Encoded rows (with their `length`, `cut` and `chars` columns, which are dropped) and their statistics:
    token lengths as `name`, how many of the `plural` were cut to `limit` and how many left out, and a
    sentence for each that happened ("N of M conversations are longer than L tokens; {cut_note}")."""
    cut, lost = int(int_column(encoded, "cut").sum()), len(rows) - len(encoded)
    found: dict[str, Any] = {name: stats(int_column(encoded, "length"), column_sum(encoded, "chars"), limit).as_dict(),
                             f"cut_{plural}": cut, f"left_out_{plural}": lost}
    notes = []
    if cut:
        notes.append(f"{cut:,} of {len(rows):,} {plural} are longer than {limit} tokens; {cut_note}")
    if lost:
        notes.append(f"{lost:,} {plural} are left out: {lost_note}")
    if notes:
        found["notes"] = notes
    return encoded.remove_columns(["length", "cut", "chars"]), found
