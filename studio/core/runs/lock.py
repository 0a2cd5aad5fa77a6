"""One process at a time in a run folder: the training process holds an exclusive lock on RUN/.lock for as long
as it trains, so a second `studio train --out SAME` or `--resume` (from the command line or the window) is
refused in a sentence instead of writing a second history into the same store. The operating system drops the
lock when the process ends, however it ends, so a killed run never leaves the folder locked."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from studio.core.errors import RunError

LOCK_FILE = ".lock"


@contextmanager
def held(run_dir: Path) -> Iterator[None]:
    """Hold the run folder's lock (making the folder if need be). A job refused before it wrote anything leaves
    the folder as it found it: no lock file in an empty folder, no folder it made."""
    made = not run_dir.exists()
    run_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(run_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    locked = False
    try:
        if not _try_lock(fd):
            try:
                holder = os.read(fd, 32).decode("ascii", "replace").strip() or "another process"
            except OSError:  # Windows keeps a locked region from other readers
                holder = "another process"
            raise RunError(f"'{run_dir.name}' is in use by process {holder}, which is training it; wait for it to "
                           "finish or stop it, or train into another folder.")
        locked = True
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode("ascii"))
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
        if locked:
            _tidy(run_dir, made)


def holds_files(folder: Path) -> bool:
    """Anything but the lock file a run that ended left (the lock alone is an empty folder's)."""
    return any(child.name != LOCK_FILE for child in folder.iterdir())


def _tidy(run_dir: Path, made: bool) -> None:
    if holds_files(run_dir):
        return  # a run's folder keeps its lock file: removing it could let two later processes lock two files
    with contextlib.suppress(OSError):  # another process took the folder meanwhile: it is theirs
        (run_dir / LOCK_FILE).unlink(missing_ok=True)
        if made:
            run_dir.rmdir()


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True
