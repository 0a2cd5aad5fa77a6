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
    """A sentence naming the workspace when its runs or cache cannot be made there (a file in the way, no
    permission), before any work that would fail on it later under another name (the data file's)."""
    from studio.core.errors import ConfigError

    for folder in (runs_dir(root), cache_dir(root)):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            probe = folder / f".write-test-{os.getpid()}"
            probe.touch()
            probe.unlink()
        except OSError as exc:
            raise ConfigError(f"The workspace '{root}' cannot be written ({exc.strerror or exc}); choose another "
                              f"with --workspace or {ENV_VAR}.") from None

