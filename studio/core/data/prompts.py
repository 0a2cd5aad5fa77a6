"""A file of prompts a person wants a run to answer at every evaluation: one prompt per line."""

from __future__ import annotations

from pathlib import Path

from studio.core.errors import ConfigError

MAX_PROMPTS = 16  # each is answered at every evaluation


def read_prompts(path: str) -> list[str]:
    """The prompts of a sample prompts file, one per non-empty line; a sentence when there are none or too
    many."""
    try:
        lines = Path(path).expanduser().read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise ConfigError(f"--sample-prompts '{path}' does not exist; give a text file with one prompt per line."
                          ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"--sample-prompts '{path}' cannot be read ({exc}); give a UTF-8 text file.") from None
    prompts = [line.strip() for line in lines if line.strip()]
    if not prompts:
        raise ConfigError(f"--sample-prompts '{path}' has no prompts; write one prompt per line.")
    if len(prompts) > MAX_PROMPTS:
        raise ConfigError(f"--sample-prompts '{path}' has {len(prompts)} prompts; keep it to {MAX_PROMPTS} (each is "
                          "answered at every evaluation).")
    return prompts
