"""Extractive answers in SQuAD's shape: each row's `answers` is {"text": [...], "answer_start": [...]}, every
answer a span of the row's context starting at that character. An empty list is a question the context does
not answer (SQuAD 2.0).

The check reads every row once, before anything trains, and names the first row that is wrong: an answer
whose start does not point at its text is the most common fault of hand-made QA data, and a model trained
on it learns the wrong spans without a word.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from studio.core.data.columns import ColumnKind, describe
from studio.core.errors import DataError

if TYPE_CHECKING:
    from datasets import Dataset

_KEYS = {"text", "answer_start"}
_SHAPE = '{"text": ["..."], "answer_start": [N]}'


def _fits(feature: Any) -> bool:
    return isinstance(feature, dict) and _KEYS <= feature.keys()


def _refuse(ds: Dataset, name: str, control: str) -> str:
    return (f"Column '{name}' does not hold answers in SQuAD's shape (it holds {describe(ds, name)}); each row's "
            f"answers are {_SHAPE}. Choose another column with {control}.")


ANSWERS = ColumnKind("answers", _fits, _refuse)


def check(ds: Dataset, columns: dict[str, str], controls: dict[str, str]) -> list[int]:
    """Raise `DataError` naming the first row whose question, context or answers are wrong; return the rows
    (0-based) whose question has no answer."""
    unanswered = []
    question, context, answers = columns["question"], columns["context"], columns["answers"]
    for i, row in enumerate(ds.select_columns([question, context, answers])):
        where = f"Row {i + 1}"
        if not (row[question] or "").strip():
            raise DataError(f"{where} has an empty question ({controls['question']} '{question}'); every row needs "
                            "one.")
        text = row[context] or ""
        if not text.strip():
            raise DataError(f"{where} has an empty context ({controls['context']} '{context}'); the answer is found "
                            "in it, so every row needs one.")
        found = row[answers] or {}
        texts, starts = found.get("text"), found.get("answer_start")
        if not isinstance(texts, list) or not isinstance(starts, list) or len(texts) != len(starts):
            raise DataError(f"{where}'s answers are not in SQuAD's shape: give {_SHAPE}, a start for each text "
                            f"(it has {found!r}).")
        if not texts:
            unanswered.append(i)
        for answer, start in zip(texts, starts):
            if not isinstance(answer, str) or not answer.strip() or not isinstance(start, int):
                raise DataError(f"{where} has an answer {answer!r} at {start!r}; an answer is non-empty text with the "
                                "character where it starts in the context.")
            if text[start:start + len(answer)] != answer:
                there = text[max(0, start):max(0, start) + len(answer)]
                hint = f" (it is at character {text.find(answer)})" if answer in text else \
                    " (the context does not contain it)"
                raise DataError(f"{where}: the answer {answer!r} does not start at character {start} of its context, "
                                f"which reads {there!r} there{hint}. Fix its answer_start.")
    return unanswered
