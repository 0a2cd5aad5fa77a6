"""The Playground's session history as plain data, exported as text or JSON (atomically)."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from studio.core.errors import ConfigError
from studio.core.system.files import atomic_write_text

ANSWERED = "answered"


def one_line(text: str, width: int) -> str:
    """`text` on one line, cut to `width` characters with an ellipsis."""
    first = " ".join(text.split())
    return first[:width - 1] + "…" if len(first) > width else first


@dataclass
class Output:
    model: str
    text: str
    tokens: int
    seconds: float
    tokens_per_second: float
    time_to_first_token: float
    finish_reason: str  # "answered" for an answer that is not written token by token (a label, a span)

    @property
    def written(self) -> bool:
        """Generated token by token (its counts and speed mean something), not answered at once."""
        return self.finish_reason != ANSWERED


@dataclass
class Entry:
    mode: str  # the task of the model asked, e.g. "lm" or "classify"
    prompt: str
    settings: dict[str, Any]
    outputs: list[Output] = field(default_factory=list)
    time: float = field(default_factory=time.time)
    input_title: str = "Prompt"  # what the prompt was to the model: a prompt, a text to summarize, ...

    def title(self, width: int = 60) -> str:
        return one_line(self.prompt, width) or "(empty prompt)"

    def as_text(self) -> str:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.time))
        lines = [f"## {stamp} · {self.mode}", "", f"{self.input_title}:", self.prompt, ""]
        for out in self.outputs:
            about = f" ({out.tokens} tokens, {out.tokens_per_second:.1f} tokens/s, {out.finish_reason})" \
                if out.written else ""
            lines += [f"{out.model}{about}:", out.text, ""]
        return "\n".join(lines)


def export(entries: list[Entry], path: Path) -> None:
    """Write `entries` as JSON (a .json path) or as readable text (anything else)."""
    if not entries:
        raise ConfigError("There is nothing to export yet; run a prompt first.")
    if not path.parent.is_dir():
        raise ConfigError(f"The folder '{path.parent}' does not exist; choose an existing folder to export into.")
    if path.suffix.lower() == ".json":
        text = json.dumps([asdict(e) for e in entries], ensure_ascii=False, indent=2)
    else:
        text = "\n".join(e.as_text() for e in entries)
    try:
        atomic_write_text(path, text)
    except OSError as exc:
        raise ConfigError(f"Cannot write '{path}' ({exc.strerror}); choose another folder.") from None
