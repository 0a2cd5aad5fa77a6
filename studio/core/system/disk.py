"""Free space, asked before writing something big, and a full disk recognised when a write runs into one
(an OSError with ENOSPC, or SQLite's "database or disk is full"), so either can be said in a sentence."""

from __future__ import annotations

import errno
import shutil
import sqlite3
from pathlib import Path


def free_bytes(path: Path) -> tuple[Path, int]:
    """The nearest existing folder at or above `path`, and the free space on its disk."""
    above = next(p for p in (path, *path.parents) if p.exists())
    return above, shutil.disk_usage(above).free


def is_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    return isinstance(exc, sqlite3.OperationalError) and "disk is full" in str(exc)


def folder_bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
