"""Classification probabilities are plain transformers' `pipeline("text-classification")` ones."""

from __future__ import annotations

import pytest
from transformers import pipeline

from studio.core.playground.classification import classify, classify_many
from studio.core.tasks.loaded import load

TEXTS = ["open the file and read the bytes", "sum of the square root", "send a request to the host port",
         "alpha beta", "x"]


def test_probabilities_equal_the_pipeline(cls_run):
    loaded = load(str(cls_run))
    plain = pipeline("text-classification", model=str(cls_run / "model"), top_k=None, device="cpu")
    for text in TEXTS:
        ours = classify(loaded, text)
        theirs = {row["label"]: row["score"] for row in plain(text)[0]}
        assert set(ours.scores) == set(theirs)
        for label, p in theirs.items():
            assert ours.scores[label] == pytest.approx(p, abs=1e-5)
        assert ours.label == max(theirs, key=theirs.get) and ours.score == pytest.approx(max(theirs.values()), abs=1e-5)


def test_a_batch_gives_what_one_at_a_time_gives(cls_run):
    loaded = load(str(cls_run))
    batch = classify_many(loaded, TEXTS * 3, batch_size=4)
    assert [p.text for p in batch] == TEXTS * 3
    for prediction in batch:
        single = classify(loaded, prediction.text)
        assert single.label == prediction.label
        assert max(abs(single.scores[k] - prediction.scores[k]) for k in single.scores) < 1e-5

