"""What a write that replaces a path must never replace: a Studio run folder or any part of one, the model
being read, a folder holding either, or the workspace. Every writer that offers to replace what is at a
path the person chose (an export's --overwrite, a tokenizer's --out) asks here first, so a slip of the
path can never delete runs, checkpoints or metrics.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from studio.core.errors import ConfigError
from studio.core.runs import layout
from studio.core.system import workspace

# a folder holding more than this many entries is not an earlier export: walking all of it to look for runs
# would take long on a home folder, and replacing it is never what a person meant
_MOST_ENTRIES = 5000


def check_replaceable(path: Path, reading: Iterable[str | Path] = (), control: str = "--out") -> None:
    """Refuse with a sentence when replacing `path` (a file or a folder) would destroy a person's work.
    `reading` names what the same job reads (the model being exported), which it may not replace either."""
    target = _resolved(path)
    if not target.exists() or target.is_dir() and not any(target.iterdir()):
        return  # nothing would be lost
    choose = f"choose a new {control}"
    ws = _resolved(workspace.workspace())
    if target == ws or _inside(ws, target):
        raise ConfigError(f"{path} {'is' if target == ws else 'holds'} Studio's workspace ({ws}), with every run "
                          f"in it; nothing was replaced. {choose.capitalize()}.")
    run = _run_holding(target)
    if run is not None:
        part = "is the run folder" if run == target else "is part of the run folder"
        raise ConfigError(f"{path} {part} {run.name}; replacing it would lose the run's work, so nothing was "
                          f"replaced. {choose.capitalize()} outside the run.")
    if target.is_dir():
        _check_holds_no_run(target, path, choose)
    for source in reading:
        model = _resolved(Path(source))
        if model.exists() and (target == model or _inside(model, target) or _inside(target, model)):
            raise ConfigError(f"{path} {'is' if target == model else 'holds'} the model being read ({source}); "
                              f"nothing was replaced. {choose.capitalize()}.")


def _check_holds_no_run(target: Path, given: Path, choose: str) -> None:
    seen = 0
    for folder, folders, files in os.walk(target):
        seen += len(folders) + len(files)
        if seen > _MOST_ENTRIES:
            raise ConfigError(f"{given} holds more than {_MOST_ENTRIES:,} files and folders; it is not an earlier "
                              f"export, so nothing was replaced. {choose.capitalize()}.")
        if (layout.METRICS_FILE in files or layout.CONFIG_FILE in files) and layout.is_run(Path(folder)):
            raise ConfigError(f"{given} holds the Studio run {Path(folder).name}; replacing it would lose the run, so "
                              f"nothing was replaced. {choose.capitalize()}.")


def _run_holding(target: Path) -> Path | None:
    """The run folder `target` is, or lies in as one of its parts (its model, checkpoints, tokenizer, ...)."""
    return next((candidate for candidate in (target, *target.parents) if layout.is_run(candidate)), None)


def _inside(inner: Path, outer: Path) -> bool:
    return inner != outer and inner.is_relative_to(outer)


def _resolved(path: Path) -> Path:
    return Path(os.path.realpath(path.expanduser()))
