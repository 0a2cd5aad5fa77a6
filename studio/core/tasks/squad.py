"""Extractive question answering's arithmetic: the SQuAD evaluation's exact match and F1, and the best spans
of a context from a model's start and end logits over its windows.

The scores follow the official SQuAD v1.1/v2.0 evaluation script word for word (lower case, punctuation and
articles removed, whitespace collapsed; the best over the gold answers; 0-100). They are written here
because `evaluate`'s "squad" metric fetches its script from the Hub when it loads, which an offline machine
cannot, and the script itself is twenty lines.

`best_spans` is transformers' run_qa post-processing (`postprocess_qa_predictions`): the `n_best` likeliest
starts and ends of each window, kept when both lie in the context, in order, and no longer than
`max_answer_tokens`, scored by the sum of their logits, and mapped back to characters through the window's
offsets.
"""

from __future__ import annotations

import collections
import re
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCTUATION = set(string.punctuation)
N_BEST = 20
MAX_ANSWER_TOKENS = 30


def normalize(text: str) -> str:
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact(prediction: str, gold: str) -> float:
    return float(normalize(prediction) == normalize(gold))


def f1(prediction: str, gold: str) -> float:
    predicted, wanted = normalize(prediction).split(), normalize(gold).split()
    if not predicted or not wanted:  # a question without an answer: right only when none is given
        return float(predicted == wanted)
    common = collections.Counter(predicted) & collections.Counter(wanted)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision, recall = same / len(predicted), same / len(wanted)
    return 2 * precision * recall / (precision + recall)


def scores(predictions: Sequence[str], golds: Sequence[Sequence[str]]) -> dict[str, float]:
    """Mean exact match and F1 (0-100), each prediction against the best of its gold answers ("" for a
    question the context does not answer)."""
    if not predictions:
        return {"exact_match": 0.0, "f1": 0.0}
    em = sum(max(exact(p, g) for g in (gold or [""])) for p, gold in zip(predictions, golds))
    f = sum(max(f1(p, g) for g in (gold or [""])) for p, gold in zip(predictions, golds))
    return {"exact_match": 100 * em / len(predictions), "f1": 100 * f / len(predictions)}


@dataclass(frozen=True)
class Span:
    start: int  # characters into the context
    end: int
    score: float  # start logit + end logit


def best_spans(windows: Iterable[tuple[np.ndarray, np.ndarray, Sequence[Sequence[int]]]], *, n_best: int = N_BEST,
               max_answer_tokens: int = MAX_ANSWER_TOKENS) -> tuple[list[Span], float]:
    """The spans of one context, best first, from its windows' (start logits, end logits, offsets), offsets
    (-1, -1) for tokens outside the context; and the best "no answer" score (the first token's start and end
    logits, SQuAD 2.0's null answer), the lowest over the windows as run_qa takes it."""
    found: dict[tuple[int, int], Span] = {}
    null = float("inf")
    for start_logits, end_logits, offsets in windows:
        usable = len(offsets)
        start_logits, end_logits = np.asarray(start_logits[:usable]), np.asarray(end_logits[:usable])
        null = min(null, float(start_logits[0] + end_logits[0]))
        starts = np.argsort(start_logits)[-1:-n_best - 1:-1]
        ends = np.argsort(end_logits)[-1:-n_best - 1:-1]
        for s in starts:
            for e in ends:
                if offsets[s][0] < 0 or offsets[e][0] < 0 or e < s or e - s + 1 > max_answer_tokens:
                    continue
                span = Span(int(offsets[s][0]), int(offsets[e][1]), float(start_logits[s] + end_logits[e]))
                key = (span.start, span.end)
                if key not in found or found[key].score < span.score:
                    found[key] = span
    return sorted(found.values(), key=lambda span: -span.score), null
