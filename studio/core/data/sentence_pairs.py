"""Sentence pairs for next-sentence prediction, the second half of BERT's pretraining (Devlin et al., 2019,
section 3.1 and appendix A.2), drawn the way Google's `create_pretraining_data.py` draws them.

A document is a row (or, in a plain-text file read line by line, the lines between two blank lines, BERT's
own document separator). Its sentences are its lines, and within a line the sentences of prose. Sentences
are gathered into a chunk of about the pair's length, cut at a random sentence boundary into A and B; half
the time B is replaced by sentences from a random place elsewhere (another document where there is one),
and the sentences of the real B are put back to start the next chunk. Every draw comes from one seeded
generator, so a seed gives the same pairs every time.

Written here because no maintained library offers it: transformers' `TextDatasetForNextSentencePrediction`
was deprecated and removed, and `datasets` has no pair sampler.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from studio.core.control import Control
from studio.core.data import encoding

if TYPE_CHECKING:
    from datasets import Dataset

IS_NEXT, RANDOM_NEXT = 0, 1  # BertForPreTraining's next_sentence_label: 0 when B really follows A
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")
_TRIES = 10  # draws of a random B before a chunk keeps its real one (a corpus too small to find another)


def sentences(text: str) -> list[str]:
    """A text's sentences: its non-blank lines, and within a line each sentence of prose."""
    out = []
    for line in text.splitlines():
        if line.strip():
            out.extend(s for s in _SENTENCE_END.split(line.rstrip()) if s.strip())
    return out


@dataclass(frozen=True)
class PairFrame:
    """Where a tokenizer's pair template puts its special tokens and which token type each part gets:
    `[CLS] A [SEP] B [SEP]` with types 0 0 0 1 1 for BERT. Read off by encoding a probe pair, so the
    tokenizer's own post-processor decides."""

    head: list[int]
    middle: list[int]
    tail: list[int]
    types: tuple[int, int, int, int, int]  # of head, A, middle, B, tail

    @property
    def specials(self) -> int:
        return len(self.head) + len(self.middle) + len(self.tail)

    def join(self, a: list[int], b: list[int]) -> tuple[list[int], list[int]]:
        ids = self.head + a + self.middle + b + self.tail
        parts = (self.head, a, self.middle, b, self.tail)
        types = [t for part, t in zip(parts, self.types) for _ in part]
        return ids, types


def pair_frame(tokenizer: Any) -> PairFrame:
    probe = tokenizer("a", "b", return_token_type_ids=True)
    ids, types = probe["input_ids"], probe.get("token_type_ids") or [0] * len(probe["input_ids"])
    a = tokenizer("a", add_special_tokens=False)["input_ids"]
    b = tokenizer("b", add_special_tokens=False)["input_ids"]
    start_a = _find(ids, a, 0)
    start_b = _find(ids, b, start_a + len(a))
    end_b = start_b + len(b)

    def type_at(i: int, default: int) -> int:
        return types[i] if 0 <= i < len(types) else default

    first, second = type_at(start_a, 0), type_at(start_b, 0)
    return PairFrame(ids[:start_a], ids[start_a + len(a):start_b], ids[end_b:],
                     (first, first, type_at(start_b - 1, first), second, type_at(end_b, second)))


def _find(ids: list[int], part: list[int], after: int) -> int:
    for start in range(after, len(ids) - len(part) + 1):
        if ids[start:start + len(part)] == part:
            return start
    raise ValueError("the tokenizer's pair template does not keep its texts in order")


def documents(ds: Dataset, column: str, *, ordered: bool) -> list[list[str]]:
    """The data's documents as lists of sentences: a row each, or for plain text (`ordered`) the lines between
    blank ones."""
    texts = [t or "" for t in ds[column]]
    if not ordered:
        return [s for s in (sentences(t) for t in texts) if s]
    docs, current = [], []
    for line in texts:
        if line.strip():
            current.extend(sentences(line))
        elif current:
            docs.append(current)
            current = []
    if current:
        docs.append(current)
    return docs


def draw(docs: list[list[list[int]]], budget: int, seed: int) -> Iterator[tuple[list[int], list[int], int]]:
    """(A, B, label) pairs of token ids, A and B together at most `budget` ids, from documents of tokenized
    sentences."""
    rng = random.Random(seed)
    places = [(d, i) for d, doc in enumerate(docs) for i in range(len(doc))]
    for d, doc in enumerate(docs):
        chunk: list[list[int]] = []
        length, i = 0, 0
        while i < len(doc):
            chunk.append(doc[i])
            length += len(doc[i])
            if i == len(doc) - 1 or length >= budget:
                a_end = rng.randint(1, len(chunk) - 1) if len(chunk) >= 2 else 1
                a = [t for s in chunk[:a_end] for t in s]
                b, label = [t for s in chunk[a_end:] for t in s], IS_NEXT
                if len(chunk) < 2 or rng.random() < 0.5:
                    elsewhere = _elsewhere(docs, places, d, i - len(chunk) + 1, i + 1, budget - len(a), rng)
                    if elsewhere is not None:
                        b, label = elsewhere, RANDOM_NEXT
                        i -= len(chunk) - a_end  # the real B's sentences start the next chunk
                if a and b:
                    yield (*_fit(a, b, budget, rng), label)
                chunk, length = [], 0
            i += 1


def _elsewhere(docs: list[list[list[int]]], places: list[tuple[int, int]], d: int, start: int, end: int,
               want: int, rng: random.Random) -> list[int] | None:
    """Sentences from a random place that does not follow the chunk: another document, or in a corpus of one
    document a place outside the chunk and the sentence after it."""
    for _ in range(_TRIES):
        other, at = places[rng.randrange(len(places))]
        if other == d and (len(docs) > 1 or start <= at <= end):
            continue
        out: list[int] = []
        for sentence in docs[other][at:]:
            out.extend(sentence)
            if len(out) >= want:
                break
        return out
    return None


def _fit(a: list[int], b: list[int], budget: int, rng: random.Random) -> tuple[list[int], list[int]]:
    """Cut the longer of A and B, a token at a time from its front or back at random, until both fit."""
    a, b = list(a), list(b)
    while len(a) + len(b) > budget:
        longer = a if len(a) > len(b) else b
        longer.pop(0 if rng.random() < 0.5 else -1)
    return a, b


def pairs_of(ds: Dataset, tokenizer: Any, column: str, seq_len: int, seed: int, *, ordered: bool,
             progress: Callable[[float], None] | None = None, control: Control | None = None
             ) -> tuple[Dataset, encoding.TokenStats]:
    """Model inputs for next-sentence prediction (`input_ids`, `token_type_ids`, `next_sentence_label`), pairs
    at most `seq_len` tokens with the template, and statistics of the documents they came from."""
    from datasets import Dataset

    frame = pair_frame(tokenizer)
    docs = documents(ds, column, ordered=ordered)
    advance = encoding.reporter(len(docs), progress, control)
    tokenized = []
    for start in range(0, len(docs), 256):
        batch = docs[start:start + 256]
        flat = encoding.encode(tokenizer, [s for doc in batch for s in doc], specials=False)
        at = 0
        for doc in batch:
            tokenized.append([s for s in flat[at:at + len(doc)] if s])
            at += len(doc)
        advance(len(batch))
    ids, types, labels = [], [], []
    for a, b, label in draw(tokenized, max(2, seq_len - frame.specials), seed):
        pair_ids, pair_types = frame.join(a, b)
        ids.append(pair_ids)
        types.append(pair_types)
        labels.append(label)
    lengths = np.asarray([sum(len(s) for s in doc) for doc in tokenized], dtype=np.int64)
    stats = encoding.stats(lengths, sum(len(s) for doc in docs for s in doc), seq_len)
    table = pa.table({"input_ids": encoding.list_array(ids), "token_type_ids": encoding.list_array(types),
                      "next_sentence_label": pa.array(labels, pa.int64())})
    return Dataset(table), stats
