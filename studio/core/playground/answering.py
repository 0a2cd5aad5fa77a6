"""Answering a question from a context with an extractive QA model: the likeliest spans of the context, with
character offsets and scores.

transformers 5 removed the question-answering pipeline, so its decoding is written here as transformers 4's
`QuestionAnsweringPipeline` did it, to give the same answers for the same model: the question and context
encoded together (question first), a context too long for the model split into windows that overlap by
`stride` tokens; in each window the start and end logits over the context (and the first token) turned
into probabilities, every span up to `max_answer_tokens` long scored by the product of its start's and end's
probability, the best `top_k` of each window kept, widened to whole words, and the best of all windows
given. With `no_answer`, the empty answer is one of them, scored by the first token (SQuAD 2.0).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from studio.core.control import Control
from studio.core.errors import ConfigError
from studio.core.modeling.loaded import LoadedModel

MAX_ANSWER_TOKENS = 15  # the pipeline's default


@dataclass
class Answer:
    text: str
    start: int  # characters into the context
    end: int
    score: float


@dataclass
class Answers:
    text: str  # the question
    context: str
    answers: list[Answer] = field(default_factory=list)  # best first

    def as_dict(self) -> dict[str, Any]:
        return {"answers": [a.__dict__ for a in self.answers]}


def default_stride(limit: int) -> int:
    return min(limit // 2, 128)


def windows(tokenizer: Any, questions: list[str], contexts: list[str], limit: int, stride: int) -> Any:
    """The question-first encodings of each (question, context), a context too long for `limit` split into
    windows overlapping by `stride` tokens (`overflow_to_sample_mapping` says whose window each is). A question
    longer than half the window is cut to that, so every window holds as much context as question."""
    from studio.core.data.sentence_pairs import pair_frame

    specials = pair_frame(tokenizer).specials
    most = max(1, (limit - specials) // 2)
    asked = tokenizer(questions, add_special_tokens=False, return_offsets_mapping=True)
    questions = [q[:spans[most - 1][1]] if len(ids) > most else q
                 for q, ids, spans in zip(questions, asked["input_ids"], asked["offset_mapping"])]
    room = limit - specials - min(most, max((len(ids) for ids in asked["input_ids"]), default=0))
    return tokenizer(questions, contexts, truncation="only_second", max_length=limit,
                     stride=max(0, min(stride, room // 2)), return_token_type_ids=True,
                     return_overflowing_tokens=True, return_offsets_mapping=True)


def answer(loaded: LoadedModel, question: str, context: str, *, top_k: int = 1,
           max_answer_tokens: int = MAX_ANSWER_TOKENS, no_answer: bool = False, stride: int | None = None,
           control: Control | None = None) -> Answers:
    import torch

    if not question.strip():
        raise ConfigError("There is no question; give --question with what you want to know.")
    if not context.strip():
        raise ConfigError("There is no context to find the answer in; give --context with the text that holds it.")
    if top_k < 1:
        raise ConfigError(f"--top-k {top_k} asks for no answers; give 1 or more.")
    tokenizer, limit = loaded.tokenizer, loaded.input_limit
    encoded = windows(tokenizer, [question], [context], limit, stride or default_stride(limit))
    inputs = {k: encoded[k] for k in ("input_ids", "token_type_ids") if k in encoded}
    if "token_type_ids" in inputs and "token_type_ids" not in _forward_arguments(loaded.model):
        del inputs["token_type_ids"]
    batch = tokenizer.pad(inputs, return_tensors="pt")
    if control is not None:
        control.checkpoint()
    with torch.inference_mode():
        out = loaded.model(**{k: v.to(loaded.device) for k, v in batch.items()})
    starts_all = out.start_logits.float().cpu().numpy()
    ends_all = out.end_logits.float().cpu().numpy()
    found: list[Answer] = []
    null = 1_000_000.0
    for w in range(len(encoded["input_ids"])):
        ids = encoded["input_ids"][w]
        allowed = np.asarray([s == 1 for s in encoded.sequence_ids(w)], dtype=bool)
        if tokenizer.cls_token_id is not None:  # the first token scores "no answer" in models that learn one
            allowed |= np.asarray(ids) == tokenizer.cls_token_id
        start = _probabilities(starts_all[w, :len(ids)], allowed)
        end = _probabilities(ends_all[w, :len(ids)], allowed)
        if no_answer:
            null = min(null, float(start[0] * end[0]))
        start[0] = end[0] = 0.0
        for s, e, score in _spans(start, end, top_k, max_answer_tokens, allowed):
            begin, finish = _characters(encoded[w], int(s), int(e))
            if finish > begin:
                found.append(Answer(context[begin:finish], begin, finish, float(score)))
    if no_answer:
        found.append(Answer("", 0, 0, null))
    found.sort(key=lambda a: -a.score)
    return Answers(question, context, found[:top_k])


def _forward_arguments(model: Any) -> set[str]:
    import inspect

    return set(inspect.signature(model.forward).parameters)


def _probabilities(logits: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    masked = np.where(allowed, logits, -10000.0)
    exp = np.exp(masked - masked.max())
    return exp / exp.sum()


def _spans(start: np.ndarray, end: np.ndarray, top_k: int, longest: int, allowed: np.ndarray
           ) -> list[tuple[int, int, float]]:
    """The `top_k` (start, end, score) of a window, as the pipeline's `decode_spans` picks them."""
    outer = np.tril(np.triu(np.outer(start, end)), longest - 1)
    flat = outer.flatten()
    if top_k == 1:
        order = np.asarray([np.argmax(flat)])
    elif len(flat) < top_k:
        order = np.argsort(-flat)
    else:
        best = np.argpartition(-flat, top_k)[:top_k]
        order = best[np.argsort(-flat[best])]
    starts, ends = np.unravel_index(order, outer.shape)
    keep = allowed[starts] & allowed[ends]
    return [(s, e, outer[s, e]) for s, e in zip(starts[keep], ends[keep])]


def _characters(encoding: Any, start: int, end: int) -> tuple[int, int]:
    """A token span as characters of the context, widened to whole words (the pipeline's `align_to_words`)."""
    try:
        first, last = encoding.token_to_word(start), encoding.token_to_word(end)
        return encoding.word_to_chars(first, sequence_index=1)[0], encoding.word_to_chars(last, sequence_index=1)[1]
    except Exception:  # noqa: BLE001 - a tokenizer without words: the tokens' own offsets, as the pipeline falls back
        return encoding.offsets[start][0], encoding.offsets[end][1]
