"""The columns a task reads, by role: what each role is, how it is guessed, and how a choice is checked.

A task declares its roles (`Column`), each of a `ColumnKind`: text, a label, a list of words, a list of
tags, a conversation, or a kind the task brings itself. This module maps the roles onto a dataset's
columns. Guessing goes by name first, then by elimination: when exactly one column of the right kind is
left for a role, it is taken, so a CSV of `body,label` needs no flags for classification.

A task that reads its data in more than one shape (a chat: one column of messages, or a prompt column and
a response column) puts the roles of each shape in a `group`; the first group whose roles are all found
is used and the others are left out. An `optional` role (Alpaca's `input`) is filled only by its name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from studio.core.errors import DataError

if TYPE_CHECKING:
    from datasets import Dataset

_STRINGS = ("string", "large_string")
_INTEGERS = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
_LABEL_TYPES = _STRINGS + _INTEGERS + ("bool", "float16", "float32", "float64")
_MESSAGE_KEYS = ({"role", "content"}, {"from", "value"})  # OpenAI's messages, ShareGPT's turns


def _is_list(feature: object) -> bool:
    return type(feature).__name__ in ("List", "LargeList", "Sequence")


def shape_of(feature: Any) -> str | None:
    """What a `datasets` feature holds at heart: "text" (strings), "label" (a value that can be a label),
    "words" (lists of strings), "tags" (lists of numbers or class labels), or None for anything else."""
    if _is_list(feature):
        inner = feature.feature
        if type(inner).__name__ == "ClassLabel" or getattr(inner, "dtype", None) in _INTEGERS:
            return "tags"
        return "words" if getattr(inner, "dtype", None) in _STRINGS else None
    if type(feature).__name__ == "ClassLabel":
        return "label"
    dtype = getattr(feature, "dtype", None)
    if dtype in _STRINGS:
        return "text"
    if dtype in _LABEL_TYPES:
        return "label"
    return None


@dataclass(frozen=True)
class ColumnKind:
    """What a role's column must hold. The data layer knows four; a task may bring its own."""

    name: str
    fits: Callable[[Any], bool]  # whether a column with this `datasets` feature can fill the role
    refusal: Callable[[Dataset, str, str], str]  # (data, column, where it is chosen) -> why it cannot
    tokenized: bool = False  # a new tokenizer learns from its text (lists of words read joined by spaces)
    count: Callable[[Dataset, str, str], Any] | None = None  # its classes and their counts (a LabelSet)


def _refuse_text(ds: Dataset, name: str, control: str) -> str:
    texts = [c for c in ds.column_names if shape_of(ds.features[c]) == "text"]
    return f"Column '{name}' does not hold text; choose a text column ({_names(texts)}) with {control}."


def _refuse_lists(what: str) -> Callable[[Dataset, str, str], str]:
    def refuse(ds: Dataset, name: str, control: str) -> str:
        return (f"Column '{name}' does not hold a list of {what} per row (it holds {describe(ds, name)}); choose "
                f"a column of lists with {control}.")

    return refuse


def _refuse_label(ds: Dataset, name: str, control: str) -> str:
    return (f"Column '{name}' does not hold one label per row (it holds {describe(ds, name)}); a label is a word "
            f"or a whole number. Choose another column with {control}.")


def _refuse_conversation(ds: Dataset, name: str, control: str) -> str:
    return (f"Column '{name}' does not hold a conversation per row (it holds {describe(ds, name)}); a conversation "
            "is a list of {\"role\", \"content\"} messages (or ShareGPT's {\"from\", \"value\"}). Choose another "
            f"column with {control}.")


def _refuse_turns(ds: Dataset, name: str, control: str) -> str:
    return (f"Column '{name}' holds {describe(ds, name)}, where answers are needed: text, or a list of "
            f"{{\"role\", \"content\"}} messages. Choose another column with {control}.")


def _is_conversation(feature: Any) -> bool:
    inner = getattr(feature, "feature", None) if _is_list(feature) else None
    if type(inner).__name__ == "Json":
        # `datasets` keeps objects whose keys differ from row to row as JSON (a message missing its role):
        # a conversation still, whose rows are checked one by one, so a bad one is named by its row
        return True
    # objects with a message's key are meant as messages even when one lacks its pair; each row's check then
    # names the key that is missing
    return isinstance(inner, dict) and any(keys & inner.keys() for keys in _MESSAGE_KEYS)


def _count_labels(ds: Dataset, name: str, control: str) -> Any:
    from studio.core.data import labels

    return labels.label_set(ds, name, control)


def _count_tags(ds: Dataset, name: str, control: str) -> Any:
    from studio.core.data import tags

    return tags.tag_set(ds, name, control)


TEXT = ColumnKind("text", lambda f: shape_of(f) == "text", _refuse_text, tokenized=True)
# string labels and string tags are the usual case
LABEL = ColumnKind("label", lambda f: shape_of(f) in ("label", "text"), _refuse_label, count=_count_labels)
WORDS = ColumnKind("words", lambda f: shape_of(f) == "words", _refuse_lists("words"), tokenized=True)
TAGS = ColumnKind("tags", lambda f: shape_of(f) in ("tags", "words"), _refuse_lists("tags"), count=_count_tags)
CONVERSATION = ColumnKind("conversation", _is_conversation, _refuse_conversation, tokenized=True)
# a text, or messages (a prompt's turns, an answer as the assistant's message)
TURNS = ColumnKind("turns", lambda f: shape_of(f) == "text" or _is_conversation(f), _refuse_turns, tokenized=True)


@dataclass(frozen=True)
class Column:
    """One role a task needs filled by a column of the data."""

    role: str  # "text", "source", "target", "label", "tokens", "tags"; also the setting `<role>_column`
    title: str  # what the person reads beside the box that picks it
    kind: ColumnKind
    guesses: tuple[str, ...]  # column names that usually hold this role, most likely first
    help: str
    group: str = ""  # one of the shapes a task reads its data in (see the module's note); "": always needed
    optional: bool = False  # filled when chosen or found by name, never by elimination, and never required

    @property
    def flag(self) -> str:
        return f"--{self.role}-column"

    @property
    def field(self) -> str:
        return f"{self.role}_column"


def text_columns(ds: Dataset) -> list[str]:
    """The columns that hold text."""
    return [c for c in ds.column_names if TEXT.fits(ds.features[c])]


def map_columns(ds: Dataset, roles: tuple[Column, ...], wanted: dict[str, str], controls: dict[str, str]
                ) -> dict[str, str]:
    """Check (or guess) a column for every role; returns {role: column}.

    `wanted` holds the person's choices (role -> column, empty for "guess"); `controls` names where they
    pick each role (a flag, a box in the window), so an error says what to change in their own terms.
    """
    chosen: dict[str, str] = {}
    for role in roles:
        name = wanted.get(role.role) or ""
        if not name:
            continue
        if name not in ds.column_names:
            raise DataError(f"There is no column '{name}'; the data has {_names(ds.column_names)}. Choose one of "
                            f"them with {controls[role.role]}.")
        if not role.kind.fits(ds.features[name]):
            raise DataError(role.kind.refusal(ds, name, controls[role.role]))
        chosen[role.role] = name
    roles = _shape_roles(roles, chosen)
    for role in roles:  # by name first, for every role, so a later role's name is not taken by elimination
        free = _free(ds, chosen, role)
        by_name = [g for g in role.guesses if g in free]
        if role.role not in chosen and by_name:
            chosen[role.role] = by_name[0]
        elif role.optional and role.role not in chosen:
            # a column named for an optional role but holding something else would be left out unsaid
            misfit = next((g for g in role.guesses if g in ds.column_names and g not in chosen.values()), None)
            if misfit is not None:
                raise DataError(role.kind.refusal(ds, misfit, controls[role.role]))
    progress = True
    while progress:  # then by elimination: the one column of the right kind that is left
        progress = False
        for role in roles:
            free = _free(ds, chosen, role)
            if role.role not in chosen and not role.optional and len(free) == 1:
                chosen[role.role] = free[0]
                progress = True
    roles = _complete_group(roles, chosen, ds, controls)
    for role in roles:
        if role.role not in chosen and not role.optional:
            _refuse_misfit(ds, roles, chosen, controls)
            raise DataError(f"Which column holds the {role.title.lower()}? The data has {_names(ds.column_names)}; "
                            f"choose one with {controls[role.role]}.")
    chosen = {r.role: chosen[r.role] for r in roles if r.role in chosen}
    for role in (r for r in roles if r.role in chosen):
        twins = [r.title.lower() for r in roles if r is not role and chosen.get(r.role) == chosen[role.role]]
        if twins:
            raise DataError(f"The {role.title.lower()} and the {twins[0]} are both '{chosen[role.role]}'; choose "
                            "two different columns.")
    return chosen


def _shape_roles(roles: tuple[Column, ...], chosen: dict[str, str]) -> tuple[Column, ...]:
    """The roles to fill: a person's choice of a grouped role picks its group."""
    picked = next((r.group for r in roles if r.group and r.role in chosen), "")
    return tuple(r for r in roles if not r.group or not picked or r.group == picked)


def _complete_group(roles: tuple[Column, ...], chosen: dict[str, str], ds: Dataset, controls: dict[str, str]
                    ) -> tuple[Column, ...]:
    """The roles without the groups not used: the first group whose roles were all found, in order."""
    groups = list(dict.fromkeys(r.group for r in roles if r.group))
    if not groups:
        return roles
    for group in groups:
        if all(r.role in chosen for r in roles if r.group == group and not r.optional):
            return tuple(r for r in roles if not r.group or r.group == group)
    if len(groups) == 1:
        return roles  # the missing role is asked for by name below
    _refuse_misfit(ds, roles, chosen, controls)
    shapes = [" and ".join(f"the {r.title.lower()} with {controls[r.role]}" for r in roles
                           if r.group == g and not r.optional) for g in groups]
    raise DataError(f"Which columns hold the data? The data has {_names(ds.column_names)}; choose "
                    f"{', or '.join(shapes)}.")


def _refuse_misfit(ds: Dataset, roles: tuple[Column, ...], chosen: dict[str, str], controls: dict[str, str]) -> None:
    """A role left unfilled while a column carries its name but holds something else (a `chosen` column of
    numbers): that column's content is what is wrong, so say so rather than ask which column it is."""
    for role in roles:
        if role.role in chosen:
            continue
        misfit = next((g for g in role.guesses if g in ds.column_names and g not in chosen.values()), None)
        if misfit is not None:
            raise DataError(role.kind.refusal(ds, misfit, controls[role.role]))


def _free(ds: Dataset, chosen: dict[str, str], role: Column) -> list[str]:
    return [c for c in ds.column_names if c not in chosen.values() and role.kind.fits(ds.features[c])]


def describe(ds: Dataset, name: str) -> str:
    """What a column holds, in a person's words."""
    feature = ds.features[name]
    dtype = getattr(feature, "dtype", None)
    if _is_list(feature):
        return "lists"
    if dtype in _STRINGS:
        return "text"
    if dtype == "bool":
        return "true/false values"
    if dtype in _LABEL_TYPES or type(feature).__name__ == "ClassLabel":
        return "numbers"
    return dtype or type(feature).__name__


def _names(columns: list[str]) -> str:
    return ", ".join(f"'{c}'" for c in columns) if columns else "no columns"
