"""ROUGE for summarization runs, computed on generated summaries of the (capped) validation split."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def rouge_metrics(tokenizer: Any) -> Callable[[Any], dict[str, float]]:
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=False)

    def compute(prediction: Any) -> dict[str, float]:
        preds, labels = prediction.predictions, prediction.label_ids
        if isinstance(preds, tuple):
            preds = preds[0]
        pad = tokenizer.pad_token_id
        preds = np.where(preds < 0, pad, preds)
        labels = np.where(labels < 0, pad, labels)
        generated = tokenizer.batch_decode(preds, skip_special_tokens=True)
        references = tokenizer.batch_decode(labels, skip_special_tokens=True)
        totals = {"rouge1": 0.0, "rouge2": 0.0, "rougeL": 0.0}
        for gen, ref in zip(generated, references):
            for name, score in scorer.score(ref, gen).items():
                totals[name] += score.fmeasure
        n = max(1, len(generated))
        return {name: value / n for name, value in totals.items()}

    return compute
