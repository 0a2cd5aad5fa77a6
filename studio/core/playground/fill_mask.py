"""Filling in masked tokens with a masked language model: the likeliest tokens for every mask.

Through transformers' own fill-mask pipeline, on the model already loaded, so candidates and scores are
what plain transformers gives for the same text.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from studio.core.errors import ConfigError, ModelError
from studio.core.modeling.loaded import LoadedModel

MOST_CANDIDATES = 50


@dataclass
class Candidate:
    token: str  # the text the token adds (with its leading space, if it has one)
    id: int
    score: float


GENERIC_MASK = "[MASK]"


_OTHER_SPELLINGS = ("<mask>", "[mask]", "<MASK>", "[MASK]")  # the mask tokens of the families people meet


def mask_token(loaded: LoadedModel) -> str:
    """The model's own mask token, or a sentence saying it has none."""
    token = loaded.tokenizer.mask_token
    if token is None:
        raise ModelError(f"'{loaded.source}' has no mask token, so it cannot fill in text; use a masked language "
                         "model, such as one trained with --task mlm.")
    return token


@dataclass
class Filled:
    """The candidates for every mask token of `text`, in the order the masks appear."""

    text: str
    masks: list[list[Candidate]]
    mask: str = GENERIC_MASK  # the model's mask token as `text` spells it

    def best_text(self) -> list[tuple[str, bool]]:
        """`text` in pieces with each mask replaced by its likeliest candidate, marked True: what the model
        reads the whole text as."""
        pieces = self.text.split(self.mask)
        out = [(pieces[0], False)]
        for candidates, after in zip(self.masks, pieces[1:], strict=False):
            out += [(candidates[0].token if candidates else "?", True), (after, False)]
        return [(piece, filled) for piece, filled in out if piece or filled]

    def as_dict(self) -> dict[str, Any]:
        return {"masks": [[asdict(c) for c in mask] for mask in self.masks]}


def fill(loaded: LoadedModel, text: str, top_k: int = 5) -> Filled:
    """The `top_k` likeliest tokens for each mask token in `text`, in the order the masks appear."""
    token = mask_token(loaded)
    # "[MASK]" stands for any model's own mask token (RoBERTa's <mask>), so one text asks every model
    text = text.replace(GENERIC_MASK, token)
    # another family's spelling would stay text, and the person would see one gap filled and the other not
    foreign = next((m for m in _OTHER_SPELLINGS if m != token and m in text), None)
    if foreign is not None:
        raise ConfigError(f"The text has {foreign}, which this model reads as plain text (its mask token is {token}); "
                          f"write {GENERIC_MASK} or {token} where it should fill in a token.")
    if token not in text:
        raise ConfigError(f"The text has no {token}; put {token} where the model should fill in a token, for "
                          f"example 'def add(a, b): {token} a + b'.")
    if not 1 <= top_k <= MOST_CANDIDATES:
        raise ConfigError(f"--top-k {top_k} is impossible; choose 1 to {MOST_CANDIDATES}.")
    results = _pipeline(loaded)(text, top_k=top_k)
    if text.count(token) == 1:
        results = [results]
    return Filled(text, [[Candidate(r["token_str"], int(r["token"]), float(r["score"])) for r in mask]
                         for mask in results], token)


def _pipeline(loaded: LoadedModel) -> Any:
    from transformers import pipeline

    from studio.core.system.quiet import quiet_transformers

    with quiet_transformers():
        return pipeline("fill-mask", model=loaded.model, tokenizer=loaded.tokenizer, device=loaded.device)
