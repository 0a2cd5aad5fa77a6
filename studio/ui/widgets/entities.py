"""Entity spans drawn over text: one colour per entity type, the same in every panel."""

from __future__ import annotations

import html

# Translucent, so text stays readable on light and dark backgrounds alike.
_COLOURS = ("79,140,255", "224,163,58", "63,179,127", "198,91,209", "224,90,90", "55,182,196", "160,160,60",
            "140,110,220")


def colour(kinds: list[str], kind: str, alpha: float = 0.35) -> str:
    """The CSS colour of an entity type, by its place among `kinds` (so a legend and the text agree)."""
    index = kinds.index(kind) if kind in kinds else len(kinds)
    return f"rgba({_COLOURS[index % len(_COLOURS)]},{alpha})"


def kind_of(tag: str) -> str | None:
    """PER for B-PER, I-PER or PER; None for O."""
    if tag == "O":
        return None
    return tag[2:] if tag[:2] in ("B-", "I-", "E-", "S-") else tag


def spans(tags: list[str]) -> list[tuple[int, int, str]]:
    """(first word, last word + 1, type) of every entity in a BIO or IO tag sequence."""
    out: list[tuple[int, int, str]] = []
    for i, tag in enumerate(tags):
        kind = kind_of(tag)
        if kind is None:
            continue
        continues = out and out[-1][1] == i and out[-1][2] == kind and not tag.startswith("B-")
        if continues:
            out[-1] = (out[-1][0], i + 1, kind)
        else:
            out.append((i, i + 1, kind))
    return out


def words_html(words: list[str], tags: list[str], kinds: list[str]) -> str:
    """The words with each entity shaded in its type's colour and named after it."""
    found = {start: (end, kind) for start, end, kind in spans(tags)}
    parts, i = [], 0
    while i < len(words):
        if i in found:
            end, kind = found[i]
            text = html.escape(" ".join(words[i:end]))
            parts.append(f'<span style="background-color:{colour(kinds, kind)}">{text}'
                         f'<sub> {html.escape(kind)}</sub></span>')
            i = end
        else:
            parts.append(html.escape(words[i]))
            i += 1
    return " ".join(parts)


def legend_html(kinds: list[str]) -> str:
    return " ".join(f'<span style="background-color:{colour(kinds, k)}">&nbsp;{html.escape(k)}&nbsp;</span>'
                    for k in kinds)
