"""A text file opened into the Playground's prompt: UTF-8, and no larger than a model could read."""

from __future__ import annotations

from pathlib import Path

from studio.core.errors import ConfigError

MAX_BYTES = 2 * 2**20


def read(path: Path) -> str:
    """The file's text; a sentence (ConfigError) when it is too large, not UTF-8, or cannot be read."""
    try:
        if path.stat().st_size > MAX_BYTES:
            raise ConfigError(f"'{path.name}' is larger than 2 MB; a model reads a few thousand characters at most, "
                              "so open a shorter file or paste a part of it.")
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"'{path.name}' is not UTF-8 text; open a plain text file.") from None
    except OSError as exc:
        raise ConfigError(f"Cannot read '{path.name}' ({exc.strerror}).") from None
