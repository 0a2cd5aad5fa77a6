"""BLEU and chrF of generated translations against references, through `sacrebleu`, the field's reference
implementation (its default tokenization, so the numbers compare with published ones)."""

from __future__ import annotations


def bleu_chrf(generated: list[str], references: list[str]) -> dict[str, float]:
    """Corpus BLEU and chrF, each 0-100, over the pairs."""
    import sacrebleu

    return {"bleu": float(sacrebleu.corpus_bleu(generated, [references]).score),
            "chrf": float(sacrebleu.corpus_chrf(generated, [references]).score)}
