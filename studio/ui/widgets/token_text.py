"""A token as a person can see it: spaces and line breaks made visible, an empty token marked."""

from __future__ import annotations


def visible(token: str) -> str:
    return token.replace("\n", "⏎").replace(" ", "·") or "∅"
