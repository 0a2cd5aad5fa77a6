"""Classifying texts with a trained classifier: every label's probability, for one text or many.

The probabilities are the softmax of the model's logits, as `pipeline("text-classification")` gives
them; texts are encoded through the tokenizer's template and cut to the length the model trained on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.core.control import Control
from studio.core.errors import ConfigError
from studio.core.modeling.batches import logits, softmax
from studio.core.modeling.loaded import LoadedModel


@dataclass
class Prediction:
    text: str
    label: str
    score: float
    scores: dict[str, float]  # every label's probability, in the model's label order

    def as_dict(self) -> dict[str, Any]:
        return {"label": self.label, "score": self.score, "scores": self.scores}


def classify(loaded: LoadedModel, text: str) -> Prediction:
    if not text.strip():
        raise ConfigError("There is no text to classify; give --text with a few words in it.")
    return classify_many(loaded, [text])[0]


def classify_many(loaded: LoadedModel, texts: list[str], *, batch_size: int = 32,
                  progress: Callable[[float], None] | None = None, control: Control | None = None) -> list[Prediction]:
    """A prediction for each text, in order; batched shortest-first (see modeling.batches)."""
    names = loaded.labels
    probabilities = softmax(logits(loaded.model, loaded.tokenizer, texts, limit=loaded.input_limit,
                                   batch_size=batch_size, progress=progress, control=control).astype("float64"))
    out = []
    for text, row in zip(texts, probabilities):
        best = int(row.argmax())
        out.append(Prediction(text, names[best], float(row[best]), {n: float(p) for n, p in zip(names, row)}))
    return out


def write_csv(path: Path, predictions: list[Prediction]) -> None:
    """The predictions as CSV (text, label, score, then each label's probability), written atomically."""
    import csv
    import io

    from studio.core.system.files import atomic_write_text

    if not predictions:
        raise ConfigError("There is nothing to export yet; classify some lines first.")
    if not path.parent.is_dir():
        raise ConfigError(f"The folder '{path.parent}' does not exist; choose an existing folder to export into.")
    names = list(predictions[0].scores)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["text", "label", "score", *names])
    for p in predictions:
        writer.writerow([p.text, p.label, f"{p.score:.6f}", *(f"{p.scores[n]:.6f}" for n in names)])
    try:
        atomic_write_text(path, buffer.getvalue())
    except OSError as exc:
        raise ConfigError(f"Cannot write '{path}' ({exc.strerror}); choose another folder.") from None
