"""Tagging a text with a token classifier: the entity spans, and every token's tag.

Through transformers' own token-classification pipeline on the model already loaded: entities grouped
with aggregation "first" (a word takes its first piece's tag, as the model was trained), tokens without
grouping, both with character offsets into the text.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

from studio.core.errors import ConfigError
from studio.core.modeling.loaded import LoadedModel


@dataclass
class Entity:
    text: str
    label: str  # the entity type: PER from B-PER/I-PER
    start: int
    end: int
    score: float


@dataclass
class TokenTag:
    text: str
    tag: str
    score: float
    start: int
    end: int


@dataclass
class Tagging:
    text: str
    entities: list[Entity] = field(default_factory=list)
    tokens: list[TokenTag] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"entities": [e.__dict__ for e in self.entities],
                "tokens": [{"text": t.text, "tag": t.tag, "score": t.score} for t in self.tokens]}


def tag(loaded: LoadedModel, text: str) -> Tagging:
    if not text.strip():
        raise ConfigError("There is no text to tag; give --text with a few words in it.")
    run = _pipeline(loaded)
    with warnings.catch_warnings():
        # byte-level BPE has no word markers; the pipeline then finds words by spaces, as Studio trains them
        warnings.filterwarnings("ignore", message="Tokenizer does not support real words")
        return _tag(run, text)


def _tag(run: Any, text: str) -> Tagging:
    # A run of spaces becomes a token of its own whose trimmed span is empty; it names nothing, so it is
    # left out (the pipeline would report it as an entity of no characters).
    entities = [Entity(text[e["start"]:e["end"]], e["entity_group"], int(e["start"]), int(e["end"]), float(e["score"]))
                for e in run(text, aggregation_strategy="first") if e["end"] > e["start"]]
    tokens = [TokenTag(text[t["start"]:t["end"]], t["entity"], float(t["score"]), int(t["start"]), int(t["end"]))
              for t in run(text, aggregation_strategy="none", ignore_labels=[]) if t["end"] > t["start"]]
    return Tagging(text, entities, tokens)


def _pipeline(loaded: LoadedModel) -> Any:
    from transformers import pipeline

    from studio.core.system.quiet import quiet_transformers

    with quiet_transformers():
        return pipeline("token-classification", model=loaded.model, tokenizer=loaded.tokenizer, device=loaded.device)
