"""A token as a person can see it, and token labels that fit an axis."""

from __future__ import annotations

import math

_CHAR_PX = 7  # about one character of the axis font
_GAP_PX = 10
_LINE_PX = 15  # one line of the axis font, with room to tell it from the next


def visible(token: str) -> str:
    """Spaces and line breaks made visible, an empty token marked."""
    return token.replace("\n", "⏎").replace(" ", "·") or "∅"


def fitted_ticks(tokens: list[str], pixels: float, offset: float = 0.5) -> list[tuple[float, str]]:
    """Labels for tokens side by side along `pixels` of axis: every k-th token, each cut to the room it
    gets, so none overlap however narrow the plot is (the hover read-outs name every token in full)."""
    if not tokens:
        return []
    per_token = max(pixels, 1.0) / len(tokens)
    widest = min(8, max(len(visible(t)) for t in tokens))
    step = max(1, math.ceil((widest * _CHAR_PX + _GAP_PX) / per_token))
    room = max(2, int((per_token * step - _GAP_PX) / _CHAR_PX))
    return [(i + offset, visible(tokens[i])[:room]) for i in range(0, len(tokens), step)]


def stacked_ticks(tokens: list[str], pixels_per_token: float, offset: float = 0.5) -> list[tuple[float, str]]:
    """Labels for tokens stacked along a vertical axis whose rows are `pixels_per_token` tall: every k-th token,
    so that no two labels overlap (a 40-token map 300 px tall wrote '·a' over '·in')."""
    step = max(1, math.ceil(_LINE_PX / max(pixels_per_token, 1e-3)))
    return [(i + offset, visible(tokens[i])[:12]) for i in range(0, len(tokens), step)]


def fitted_labels(names: list[str], pixels: float, offset: float = 0.5) -> list[tuple[float, str]]:
    """A label for every one of `names` side by side along `pixels` of axis (the classes of a confusion matrix:
    none may be missing), each cut with an ellipsis to the room it gets."""
    room = max(2, int((max(pixels, 1.0) / max(1, len(names)) - _GAP_PX / 2) / _CHAR_PX))
    return [(i + offset, n if len(n) <= room else n[:room - 1] + "…") for i, n in enumerate(names)]

