"""What a model gives, by kind: text written token by token, a probability for each label, candidates for
each mask, entity spans. Each kind is registered here once; a task names its kind, and the window keeps
one view for each (see studio.ui.outputs), so a new task of a known kind needs no view of its own.

An answer of any kind is a dataclass with `text` (what was asked) and `as_dict()` (what `--json` prints);
the kind knows how to put it on a terminal and in one line of the Playground's history.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from studio.core.errors import ConfigError


@dataclass(frozen=True)
class OutputKind:
    name: str
    does: str  # what its models do, for the sentence when another model cannot: "classify text"
    streamed: bool = False  # written token by token: sampling settings, a stop, token probabilities
    lines: Callable[[Any], list[str]] = lambda answer: [str(answer)]  # an answer, for a terminal
    summary: Callable[[Any], str] = lambda answer: str(answer)  # an answer in one line of the history
    row: Callable[[Any], str] | None = None  # one answer of many, as a line; None: answered one at a time


_KINDS: dict[str, OutputKind] = {}


def register(kind: OutputKind) -> OutputKind:
    """Add an output kind (a task from another package may bring one); its name must be new."""
    if kind.name in _KINDS and _KINDS[kind.name] is not kind:
        raise ConfigError(f"Two output kinds are called '{kind.name}'; a task package must name its own kind "
                          "differently.")
    _KINDS[kind.name] = kind
    return kind


def all_kinds() -> list[OutputKind]:
    return list(_KINDS.values())


def _label_lines(p: Any) -> list[str]:
    lines = [f"{p.label} ({p.score:.1%})"]
    for label, value in sorted(p.scores.items(), key=lambda item: -item[1]):
        lines.append(f"  {label[:30]:30} {value:7.1%}  {'█' * round(value * 30)}")
    return lines


def _mask_lines(filled: Any) -> list[str]:
    return [f"mask {n}: " + "  ".join(f"{c.token.strip() or repr(c.token)} {c.score:.1%}" for c in candidates)
            for n, candidates in enumerate(filled.masks, start=1)]


def _tag_lines(tagging: Any) -> list[str]:
    return [f"{e.label:12} {e.score:6.1%}  [{e.start}:{e.end}] {e.text}" for e in tagging.entities] or \
        ["No entities found."]


def _answer_lines(found: Any) -> list[str]:
    return [f"{a.text or '(no answer)'}  {a.score:.1%}  [{a.start}:{a.end}]" for a in found.answers] or \
        ["No answer found."]


TEXT = register(OutputKind("text", "write text", streamed=True, lines=lambda g: [g.text], summary=lambda g: g.text))
LABELS = register(OutputKind("labels", "classify text", lines=_label_lines, summary=lambda p: f"{p.label} ({p.score:.1%})",
                             row=lambda p: f"{p.label}\t{p.score:.4f}\t{p.text}"))
MASKS = register(OutputKind("masks", "fill in masks", lines=_mask_lines,
                            summary=lambda f: " | ".join(c[0].token.strip() if c else "" for c in f.masks)))
TAGS = register(OutputKind("tags", "tag words", lines=_tag_lines, summary=lambda t: ", ".join(
    f"{e.label} {e.text}" for e in t.entities) or "no entities"))
ANSWERS = register(OutputKind("answers", "answer questions from a text", lines=_answer_lines, summary=lambda f: (
    f"{f.answers[0].text or '(no answer)'} ({f.answers[0].score:.1%})" if f.answers else "no answer")))
