"""ROUGE F-measures of generated summaries against references, through `rouge-score`."""

from __future__ import annotations

NAMES = ("rouge1", "rouge2", "rougeL")


def rouge(generated: list[str], references: list[str]) -> dict[str, float]:
    """Mean ROUGE-1, ROUGE-2 and ROUGE-L F-measures over the pairs."""
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(list(NAMES), use_stemmer=False)
    totals = dict.fromkeys(NAMES, 0.0)
    for gen, ref in zip(generated, references):
        for name, score in scorer.score(ref, gen).items():
            totals[name] += score.fmeasure
    n = max(1, len(generated))
    return {name: value / n for name, value in totals.items()}
