"""sample:python-qa: questions about standard-library functions whose answers are exactly where they say."""

from __future__ import annotations

import ast
import itertools

import pytest
from datasets import Dataset

from studio.core.data import answers, qa_sample


@pytest.mark.slow
def test_every_answer_is_the_span_its_start_names_and_the_kinds_of_question_vary():
    rows = list(itertools.islice(qa_sample.rows(), 3000))
    assert len(rows) == 3000
    ds = Dataset.from_list(rows)
    columns = {"question": "question", "context": "context", "answers": "answers"}
    assert answers.check(ds, columns, {k: f"--{k}-column" for k in columns}) == []
    kinds = {r["question"].split(" ")[0:2][1] for r in rows}
    assert {"exception", "does", "is"} <= kinds
    for row in rows[:300]:
        ast.parse(row["context"])  # the context is the function's whole source
        text, start = row["answers"]["text"][0], row["answers"]["answer_start"][0]
        if row["question"].startswith("What exception"):
            assert all(p.isidentifier() for p in text.split(".")) and row["context"][:start].rstrip().endswith("raise")
        if row["question"].startswith("What is the first argument"):
            assert text.isidentifier()
    assert list(itertools.islice(qa_sample.rows(), 50)) == rows[:50]  # the same every time
