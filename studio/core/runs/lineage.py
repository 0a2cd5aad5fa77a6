"""Where a run's model came from, run by run: pretraining, then chat tuning, then preference tuning.

Each run records the run it started from (its `base`); following them back gives the chain. Each step
reads one small config file, so it is cheap, but it is never done for a whole list of runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from studio.core.errors import StudioError
from studio.core.runs import reader
from studio.core.runs.layout import read_config

_LONGEST = 32  # a chain this long is a loop of folders copied into each other, not a history


def lineage(run_dir: Path, base: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The runs this run comes from, oldest first, ending with itself: each its name, path, task and the
    step of the checkpoint the next one started from (None for a final model)."""
    chain = [{"run": run_dir.name, "path": str(run_dir), "task": read_config(run_dir).get("task"), "step": None}]
    seen = {run_dir.resolve()}
    while base and len(chain) < _LONGEST:
        path = Path(base["path"])
        if path.resolve() in seen or not path.is_dir():
            break
        seen.add(path.resolve())
        config = read_config(path)
        chain.insert(0, {"run": base["run"], "path": str(path), "task": config.get("task"), "step": base.get("step")})
        base = _base_of(path)
    return chain


def describe(chain: list[dict[str, Any]]) -> str:
    """"lm-run (lm) → chat-run (chat, step 500) → dpo-run (prefer)"."""
    return " → ".join(f"{link['run']} ({link['task'] or '?'}" + ("" if link["step"] is None else
                                                                  f", step {link['step']:,}") + ")"
                      for link in chain)


def _base_of(run_dir: Path) -> dict[str, Any] | None:
    try:
        return reader.read(run_dir, with_history=False).base
    except StudioError:  # an unreadable ancestor ends the chain; the runs after it are still shown
        return None
