"""What a run is and has done, read from its folder and metrics store (see `layout`) while it trains
or long after: read-only, no locks held.

A whole run's history is read only when one run is shown (`read`); a list of runs (`list_runs`, the
Runs tab, `studio runs list`) asks SQLite for each run's last values and best evaluations, so listing
costs the same whether a run logged ten steps or a million.
"""

from __future__ import annotations

import json
import math
import os
import socket
import sqlite3
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.core.errors import RunError
from studio.core.runs.labels import read_label
from studio.core.runs.layout import ADAPTER, METRICS_FILE, MODEL, checkpoints, is_run, read_config


@dataclass
class RunInfo:
    path: str
    name: str
    status: str
    task: str
    model: str
    data: str
    global_step: int
    planned_steps: int
    started: float | None
    ended: float | None
    error: str | None
    model_dir: str | None
    checkpoints: list[dict[str, Any]] = field(default_factory=list)
    last: dict[str, float] = field(default_factory=dict)
    history: list[dict[str, float]] = field(default_factory=list)
    report: dict[str, Any] | None = None  # the latest evaluation's report, with its "step"
    base: dict[str, Any] | None = None  # the run it started from: {"run": name, "path", "step" (None: final)}
    parameters: int | None = None  # the model's, adapters included
    trainable_parameters: int | None = None  # those that learn: all of them, or the adapters and head under LoRA
    adapter_dir: str | None = None  # a LoRA run's adapter alone
    title: str = ""  # what the person calls it; the folder name when empty
    notes: str = ""
    extremes: dict[str, dict[str, float]] = field(default_factory=dict)  # eval_*: min, min_step, max, max_step
    trained_seconds: float | None = None  # the finished sessions' training time (see summary.trained_seconds)
    world_size: int = 1  # the processes that trained it (one per GPU)
    # the answers to the sample prompts at each evaluation: {"step", "prompt", "output", "reference"}
    samples: list[dict[str, Any]] = field(default_factory=list)
    # the tasks its model can be trained for next, recorded when it trained (None: a run from before that record)
    trains_into: list[str] | None = None

    def as_dict(self, with_history: bool = True) -> dict[str, Any]:
        out = dict(self.__dict__)
        if not with_history:
            out.pop("history")
            out.pop("report")
            out.pop("samples")
        return out


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def read(run_dir: Path, with_history: bool = True) -> RunInfo:
    """Everything known about a run, safe to call while it trains (read-only, no locks held)."""
    run_dir = run_dir.expanduser()
    if not run_dir.is_dir() or not is_run(run_dir):
        raise RunError(f"'{run_dir}' is not a run folder (no {METRICS_FILE}); pick a folder listed by "
                       "'studio runs list'.")
    meta: dict[str, Any] = {}
    report = None
    samples: list[dict[str, Any]] = []
    history: list[dict[str, float]] = []
    last: dict[str, float | None] = {}
    extremes: dict[str, dict[str, float]] = {}
    db = run_dir / METRICS_FILE
    if db.is_file():
        try:
            with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)) as conn:
                meta = {k: json.loads(v) for k, v in conn.execute("SELECT key, value FROM meta")}
                if with_history:
                    rows = conn.execute("SELECT step, name, value, time FROM metrics ORDER BY step, rowid").fetchall()
                    history, last = _history(rows)
                    extremes = _extremes(rows)
                    report = _latest_report(conn)
                    samples = _samples(conn)
                else:
                    last, extremes = _last_values(conn), _best_values(conn)
        except sqlite3.DatabaseError as exc:
            raise RunError(f"The metrics store of '{run_dir}' cannot be read ({exc}).") from None
    status = meta.get("status", "stopped")
    if status == "running" and meta.get("host") == socket.gethostname() and meta.get("pid") \
            and not _pid_alive(int(meta["pid"])):
        status = "stopped"  # the process died without saying so (killed, crashed, power cut)
    config = read_config(run_dir)
    title, notes = read_label(run_dir)
    model_dir = run_dir / MODEL
    return RunInfo(
        path=str(run_dir), name=run_dir.name, status=status, task=config.get("task", "?"),
        model=config.get("model", "?"), data=config.get("data", "?"),
        global_step=int(meta.get("global_step", 0)), planned_steps=int(meta.get("planned_steps",
                                                                             config.get("max_steps", 0))),
        started=meta.get("started"), ended=meta.get("ended"), error=meta.get("error"),
        model_dir=str(model_dir) if (model_dir / "config.json").is_file() else None,
        checkpoints=[{"step": s, "path": str(p)} for s, p in checkpoints(run_dir)],
        last=last, history=history, report=report, base=meta.get("base"),
        parameters=meta.get("parameters"),
        trainable_parameters=meta.get("trainable_parameters", meta.get("parameters")),  # before LoRA: all
        world_size=int(meta.get("world_size", 1)), title=title, notes=notes, extremes=extremes,
        trained_seconds=meta.get("trained_seconds"),
        samples=samples, trains_into=meta.get("trains_into"),
        adapter_dir=str(run_dir / ADAPTER) if (run_dir / ADAPTER / "adapter_config.json").is_file() else None)


def _latest_report(conn: sqlite3.Connection) -> dict[str, Any] | None:
    try:
        row = conn.execute("SELECT step, body FROM reports ORDER BY step DESC LIMIT 1").fetchone()
    except sqlite3.OperationalError:  # a store written before reports existed
        return None
    return {"step": row[0], **json.loads(row[1])} if row else None


def _samples(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    try:
        rows = conn.execute("SELECT step, prompt, output, reference FROM samples ORDER BY step, idx").fetchall()
    except sqlite3.OperationalError:  # a run from before samples were kept
        return []
    return [{"step": step, "prompt": prompt, "output": output, "reference": reference}
            for step, prompt, output, reference in rows]


def _history(rows: Iterable[tuple[int, str, float | None, float]]) -> tuple[list[dict[str, float | None]],
                                                                          dict[str, float | None]]:
    """One row per step: `step`, `time` (when it was logged, Unix seconds) and each metric logged then."""
    by_step: dict[int, dict[str, float | None]] = {}
    last: dict[str, float | None] = {}
    for step, name, value, logged in rows:
        clean = value if value is not None and math.isfinite(value) else None
        row = by_step.setdefault(step, {"step": step})
        row[name] = clean
        row["time"] = logged
        last[name] = clean
    return list(by_step.values()), last


def _extremes(rows: Iterable[tuple[int, str, float | None, float]]) -> dict[str, dict[str, float]]:
    """The lowest and highest value of each evaluation metric and the steps they were reached at (the first
    step, on a tie)."""
    found: dict[str, dict[str, float]] = {}
    for step, name, value, _ in rows:
        if not name.startswith("eval_") or value is None or not math.isfinite(value):
            continue
        seen = found.get(name)
        if seen is None:
            found[name] = {"min": value, "min_step": step, "max": value, "max_step": step}
            continue
        if value < seen["min"]:
            seen.update(min=value, min_step=step)
        if value > seen["max"]:
            seen.update(max=value, max_step=step)
    return found


def _last_values(conn: sqlite3.Connection) -> dict[str, float | None]:
    """Each metric's value at the last step it was logged (what `_history` leaves in `last`)."""
    # the row logged last is the one with the latest step, then the latest rowid within it (as `_history`
    # reads them): one grouping finds its rowid and each name's first row, for the order names were first
    # logged in; a second grouping or a bare column beside MAX() sorts the table twice (1.8 times slower
    # on 500 runs of 3,000 rows)
    rows = conn.execute("""
        WITH keyed AS (SELECT name, MAX(step * 4294967296 + rowid) AS latest, MIN(rowid) AS first
                       FROM metrics GROUP BY name)
        SELECT keyed.name, metrics.value FROM keyed JOIN metrics ON metrics.rowid = keyed.latest % 4294967296
        ORDER BY keyed.first""")
    return dict(rows.fetchall())


def _best_values(conn: sqlite3.Connection) -> dict[str, dict[str, float]]:
    """`_extremes` computed by SQLite: the lowest and highest value of each evaluation metric, and the first
    step each was reached at."""
    found = conn.execute(
        r"""WITH evals AS (SELECT step, name, value FROM metrics
                          WHERE name LIKE 'eval\_%' ESCAPE '\' AND value IS NOT NULL),
               bounds AS (SELECT name, MIN(value) AS low, MAX(value) AS high FROM evals GROUP BY name)
            SELECT b.name, b.low, (SELECT MIN(step) FROM evals e WHERE e.name = b.name AND e.value = b.low),
                   b.high, (SELECT MIN(step) FROM evals e WHERE e.name = b.name AND e.value = b.high)
            FROM bounds b ORDER BY b.name""")
    return {name: {"min": low, "min_step": low_step, "max": high, "max_step": high_step}
            for name, low, low_step, high, high_step in found}


def list_runs(root: Path) -> list[RunInfo]:
    """Runs under `root`, newest first; damaged folders are skipped, never raised."""
    if not root.is_dir():
        return []
    infos = []
    for child in root.iterdir():
        if child.is_dir() and not child.name.startswith(".") and is_run(child):
            try:
                infos.append(read(child, with_history=False))
            except RunError:
                continue
    return sorted(infos, key=lambda i: i.started or 0, reverse=True)
