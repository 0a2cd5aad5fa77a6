"""A setting declared once: its name, type, default, range and help.

From one `Setting` come the command line's flag, the TOML key, the check of a value, the wizard's row
and the setting's place in the equivalent command. Run settings shared by every task are declared on
`training.config.RunConfig`; a task declares its own (a summarizer's target length) in its module.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from studio.core.errors import ConfigError

KINDS = ("int", "float", "bool", "str")
_KIND_WORDS = {"bool": "true or false", "int": "a whole number", "float": "a number", "str": "text"}


@dataclass(frozen=True)
class Setting:
    name: str  # the TOML key; the flag is --name-with-dashes
    kind: str  # one of KINDS
    default: Any
    help: str = ""  # the flag's help and the wizard's tooltip
    title: str = ""  # the wizard's row; empty: the wizard does not show it
    low: float | None = None  # the smallest value allowed (see above)
    high: float | None = None  # the largest value allowed (see below)
    above: bool = False  # `low` itself is refused: above 0, not from 0
    below: bool = False  # `high` itself is refused
    choices: tuple[str, ...] = ()
    words: tuple[tuple[Any, str], ...] = ()  # values a person gives and reads as words, e.g. ((0, "auto"),)
    hint: str = ""  # said after the range when a value is refused: "a learning rate; 1e-5 to 1e-3 is usual"
    metavar: str = ""
    flag_shown: bool = True  # a flag on the command line (some settings live in TOML files only)
    step: float = 1  # the wizard's spin step
    decimals: int = 2
    suffix: str = ""  # the wizard's unit, e.g. " min"
    placeholder: str = ""  # the wizard's hint in an empty text box
    # what a run saved before this setting existed had, when it differs from the default a new run gets (a pooling
    # "auto" that would measure and add a layer the run's checkpoints do not have)
    saved_before: Any = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"setting {self.name}: kind {self.kind!r} is not one of {KINDS}")

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    # ---- values from files, flags and forms ---------------------------------------------------------
    def coerce(self, value: Any, origin: str = "the config") -> Any:
        """`value` as this setting's type (a TOML integer for a float, say); a sentence when it cannot be."""
        try:
            if self.kind == "bool":
                if not isinstance(value, bool):
                    raise TypeError
            elif self.kind == "int":
                if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                    raise TypeError
                value = int(value)
            elif self.kind == "float":
                if isinstance(value, bool):
                    raise TypeError
                value = float(value)
            else:
                value = str(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{origin}: '{self.name}' should be {_KIND_WORDS[self.kind]}, not {value!r}.") from None
        return value

    def parse(self, text: str) -> Any:
        """A value typed on the command line (a word such as auto, or a number)."""
        for value, word in self.words:
            if text == word:
                return value
        try:
            value = {"int": int, "float": float}.get(self.kind, str)(text)
        except ValueError:
            named = " or ".join(w for _, w in self.words)
            what = "a whole number" if self.kind == "int" else "a number"
            raise ValueError(f"'{text}' is neither {what} nor {named}" if named else
                             f"'{text}' is not {what}") from None
        # a word's value inside (0 for "auto") is not a number a person may type: 0 rows per step is no batch size
        if any(value == known for known, _ in self.words) and not self.inside(value):
            hint = f" ({self.hint})" if self.hint else ""
            raise ValueError(f"{text} is impossible; {self.range_words()}{hint}")
        return value

    def shown(self, value: Any) -> str:
        """How the value is written on a command line."""
        for known, word in self.words:
            if value == known and not isinstance(value, bool):
                return word
        return f"{value:g}" if isinstance(value, float) else str(value)

    # ---- checks -------------------------------------------------------------------------------------
    def check(self, value: Any) -> None:
        """Raise ConfigError, in a sentence that names the flag and what is allowed, for a value out of range."""
        if any(value == known for known, _ in self.words) and not isinstance(value, bool):
            return
        if self.choices and value not in self.choices:
            raise ConfigError(f"Unknown {self.name.replace('_', ' ')} '{value}'; choose one of {', '.join(self.choices)}.")
        if self.kind not in ("int", "float") or self.inside(value):
            return
        shown = self.shown(value)
        hint = f" ({self.hint})" if self.hint else ""
        raise ConfigError(f"{self.flag} {shown} is impossible; {self.range_words()}{hint}.")

    def inside(self, value: float) -> bool:
        if isinstance(value, float) and not math.isfinite(value):
            return False
        if self.low is not None and (value < self.low or (self.above and value == self.low)):
            return False
        return not (self.high is not None and (value > self.high or (self.below and value == self.high)))

    def range_words(self) -> str:
        # the bounds as numbers, even where a word stands for one (the 0 of "off" is the bound of --minutes)
        low, high = (None if b is None else f"{type(self.default)(b):g}" for b in (self.low, self.high))
        if low is not None and high is not None:
            if self.above or self.below:
                return (f"it must be {'above' if self.above else 'at least'} {low} and "
                        f"{'below' if self.below else 'at most'} {high}")
            return f"choose between {low} and {high}"
        if low is not None:
            return f"it must be {'above' if self.above else 'at least'} {low}"
        return f"it must be {'below' if self.below else 'at most'} {high}"


def find(settings: tuple[Setting, ...], name: str) -> Setting | None:
    return next((s for s in settings if s.name == name), None)
