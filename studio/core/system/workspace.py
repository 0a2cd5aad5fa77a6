"""Where runs, built-in samples and caches live.

Resolution order: an explicit path (the `--workspace` flag), then `STUDIO_WORKSPACE`, then the
platform's per-user data folder. Written by hand rather than with platformdirs because three
platforms and one folder name do not justify another dependency.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ENV_VAR = "STUDIO_WORKSPACE"
APP_DIR = "transformer-studio"


def default_workspace() -> Path:
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming")
        return base / "Transformer Studio"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "Transformer Studio"
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / APP_DIR


def workspace(explicit: str | os.PathLike | None = None) -> Path:
    chosen = explicit or os.environ.get(ENV_VAR)
    return Path(chosen).expanduser() if chosen else default_workspace()


@contextmanager
def chosen(explicit: str | os.PathLike | None) -> Iterator[None]:
    """`explicit` as the workspace of everything run inside (as `STUDIO_WORKSPACE`), then as before."""
    if not explicit:
        yield
        return
    before = os.environ.get(ENV_VAR)
    os.environ[ENV_VAR] = str(Path(explicit).expanduser())
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(ENV_VAR, None)
        else:
            os.environ[ENV_VAR] = before


def runs_dir(root: Path) -> Path:
    return root / "runs"


def cache_dir(root: Path) -> Path:
    return root / "cache"


def check_writable(root: Path) -> None:
    """A sentence naming the workspace when its runs and cache could not be made there (a file in the way, a
    folder that cannot be written), before any work that would fail on it later under another name (the data
    file's). Nothing is made here: a refused job leaves nothing behind."""
    from studio.core.errors import ConfigError

    above = root
    while not above.exists() and above != above.parent:
        above = above.parent
    problem = ("Not a directory" if not above.is_dir() else
               "Permission denied" if not os.access(above, os.W_OK | os.X_OK) else None)
    if problem is not None:
        raise ConfigError(f"The workspace '{root}' cannot be written ({problem}: '{above}'); choose another with "
                          f"--workspace or {ENV_VAR}.")
