"""Classifying texts with a trained classifier: every label's probability, for one text or many.

The probabilities are the softmax of the model's logits, as `pipeline("text-classification")` gives
them; texts are encoded through the tokenizer's template and cut to the length the model trained on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from studio.core.control import Control
from studio.core.errors import ConfigError, ModelError
from studio.core.modeling.batches import logits, softmax
from studio.core.tasks.loaded import LoadedModel


@dataclass
class Prediction:
    text: str
    label: str
    score: float
    scores: dict[str, float]  # every label's probability, in the model's label order

    def as_dict(self) -> dict[str, Any]:
        return {"label": self.label, "score": self.score, "scores": self.scores}


def _check(loaded: LoadedModel) -> None:
    if loaded.task.output != "labels":
        raise ModelError(f"'{loaded.source}' is a {loaded.task.title.lower()} model; it does not classify text. "
                         f"Use 'studio {loaded.task.command}' with it, or a model trained with --task classify.")


def classify(loaded: LoadedModel, text: str) -> Prediction:
    if not text.strip():
        raise ConfigError("There is no text to classify; give --text with a few words in it.")
    return classify_many(loaded, [text])[0]


def classify_many(loaded: LoadedModel, texts: list[str], *, batch_size: int = 32,
                  progress: Callable[[float], None] | None = None, control: Control | None = None) -> list[Prediction]:
    """A prediction for each text, in order; batched shortest-first (see modeling.batches)."""
    _check(loaded)
    names = loaded.labels
    probabilities = softmax(logits(loaded.model, loaded.tokenizer, texts, limit=loaded.input_limit,
                                   batch_size=batch_size, progress=progress, control=control).astype("float64"))
    out = []
    for text, row in zip(texts, probabilities):
        best = int(row.argmax())
        out.append(Prediction(text, names[best], float(row[best]), {n: float(p) for n, p in zip(names, row)}))
    return out
