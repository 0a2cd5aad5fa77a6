"""A run is a folder; its metrics live in SQLite so they survive a crash and can be read while training.

    RUN/config.toml          the settings (TOML), written atomically
    RUN/metrics.sqlite       meta (status, steps, ...), metrics (step, name, value, time) and reports
                             (an evaluation's JSON findings, such as a confusion matrix), WAL mode
    RUN/tokenizer/           the tokenizer the run trains with
    RUN/checkpoints/checkpoint-N/   complete checkpoints only (written elsewhere, renamed into place)
    RUN/model/               the final model and tokenizer (save_pretrained, safetensors)
    RUN/tensorboard/         the same metrics as TensorBoard event files, when tensorboard is installed

WAL lets the window and `studio runs show` read while the trainer writes; every logged step is its
own transaction, so a kill loses at most the step being written.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import socket
import sqlite3
import time
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.core.errors import RunError
from studio.core.runs.labels import read_label

CONFIG_FILE = "config.toml"
METRICS_FILE = "metrics.sqlite"
CHECKPOINTS = "checkpoints"
MODEL = "model"
ADAPTER = "adapter"  # a LoRA run's adapter alone; model/ holds it merged into the base
TOKENIZER = "tokenizer"
TENSORBOARD = "tensorboard"  # event files, when tensorboard is installed
STATUSES = ("running", "completed", "stopped", "failed")
_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS metrics (
    step INTEGER NOT NULL, name TEXT NOT NULL, value REAL, time REAL NOT NULL);  -- NULL: not finite
CREATE INDEX IF NOT EXISTS metrics_step ON metrics (step);
CREATE TABLE IF NOT EXISTS reports (step INTEGER PRIMARY KEY, body TEXT NOT NULL, time REAL NOT NULL);
"""


def _connect(path: Path, readonly: bool = False) -> sqlite3.Connection:
    if readonly:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    else:
        conn = sqlite3.connect(path, timeout=10)
        conn.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode survives a crash or kill of the app; only power loss may drop the last commit.
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.executescript(_SCHEMA)
    return conn


class RunStore:
    """The writer's handle on a run's metrics store; one per training process."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self._conn = _connect(run_dir / METRICS_FILE)

    def close(self) -> None:
        self._conn.close()

    def set_meta(self, **values: Any) -> None:
        with self._conn:
            self._conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                                   [(k, json.dumps(v)) for k, v in values.items()])

    def log(self, step: int, metrics: dict[str, float]) -> None:
        now = time.time()
        rows = [(step, name, float(value) if math.isfinite(value) else None, now) for name, value in metrics.items()
                if isinstance(value, (int, float)) and not isinstance(value, bool)]
        with self._conn:
            self._conn.executemany("INSERT INTO metrics (step, name, value, time) VALUES (?, ?, ?, ?)", rows)
            self._conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('global_step', ?)",
                               (json.dumps(step),))

    def report(self, step: int, body: dict[str, Any]) -> None:
        """Keep an evaluation's report (replacing one of the same step, which a resumed run re-evaluates)."""
        with self._conn:
            self._conn.execute("INSERT OR REPLACE INTO reports (step, body, time) VALUES (?, ?, ?)",
                               (step, json.dumps(body, allow_nan=False), time.time()))

    def truncate_after(self, step: int) -> None:
        """Forget what was logged after `step`: a resumed run replays those steps from its checkpoint."""
        with self._conn:
            self._conn.execute("DELETE FROM metrics WHERE step > ?", (step,))
            self._conn.execute("DELETE FROM reports WHERE step > ?", (step,))

    def mark_running(self, planned_steps: int) -> None:
        self.set_meta(status="running", pid=os.getpid(), host=socket.gethostname(), planned_steps=planned_steps,
                      started=time.time(), error=None)

    def mark_finished(self, status: str, error: str | None = None) -> None:
        assert status in STATUSES
        ended = time.time()
        row = self._conn.execute("SELECT value FROM meta WHERE key = 'started'").fetchone()
        started = json.loads(row[0]) if row else None
        before = self._conn.execute("SELECT value FROM meta WHERE key = 'trained_seconds'").fetchone()
        # each session of a resumed run adds its time: a run's duration without the days it sat stopped
        seconds = (json.loads(before[0]) if before else 0.0) + (ended - started if started else 0.0)
        self.set_meta(status=status, ended=ended, error=error, pid=None, trained_seconds=seconds)


class NoStore(RunStore):
    """The store of a process that must stay silent: every process but the main one of a run of several."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir

    def close(self) -> None:
        pass

    def set_meta(self, **values: Any) -> None:
        pass

    def log(self, step: int, metrics: dict[str, float]) -> None:
        pass

    def report(self, step: int, body: dict[str, Any]) -> None:
        pass

    def truncate_after(self, step: int) -> None:
        pass

    def mark_running(self, planned_steps: int) -> None:
        pass

    def mark_finished(self, status: str, error: str | None = None) -> None:
        pass


def checkpoints(run_dir: Path) -> list[tuple[int, Path]]:
    """Complete checkpoints, oldest first. Half-written ones never carry the final name."""
    folder = run_dir / CHECKPOINTS
    if not folder.is_dir():
        return []
    found = []
    for child in folder.iterdir():
        match = _CHECKPOINT.match(child.name)
        if match and child.is_dir() and (child / "trainer_state.json").is_file():
            found.append((int(match.group(1)), child))
    return sorted(found)


def latest_checkpoint(run_dir: Path) -> tuple[int, Path] | None:
    found = checkpoints(run_dir)
    return found[-1] if found else None


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

    def as_dict(self, with_history: bool = True) -> dict[str, Any]:
        out = dict(self.__dict__)
        if not with_history:
            out.pop("history")
            out.pop("report")
        return out


def is_run(path: Path) -> bool:
    return (path / METRICS_FILE).is_file() or (path / CONFIG_FILE).is_file()


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
    history: list[dict[str, float]] = []
    last: dict[str, float] = {}
    extremes: dict[str, dict[str, float]] = {}
    db = run_dir / METRICS_FILE
    if db.is_file():
        try:
            with closing(_connect(db, readonly=True)) as conn:
                meta = {k: json.loads(v) for k, v in conn.execute("SELECT key, value FROM meta")}
                rows = conn.execute("SELECT step, name, value, time FROM metrics ORDER BY step, rowid").fetchall()
                report = _latest_report(conn)
        except sqlite3.DatabaseError as exc:
            raise RunError(f"The metrics store of '{run_dir}' cannot be read ({exc}).") from None
        history, last = _history(rows)
        extremes = _extremes(rows)
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
        last=last, history=history if with_history else [], report=report, base=meta.get("base"),
        parameters=meta.get("parameters"),
        trainable_parameters=meta.get("trainable_parameters", meta.get("parameters")),  # before LoRA: all
        world_size=int(meta.get("world_size", 1)), title=title, notes=notes, extremes=extremes,
        trained_seconds=meta.get("trained_seconds"),
        adapter_dir=str(run_dir / ADAPTER) if (run_dir / ADAPTER / "adapter_config.json").is_file() else None)


def _latest_report(conn: sqlite3.Connection) -> dict[str, Any] | None:
    try:
        row = conn.execute("SELECT step, body FROM reports ORDER BY step DESC LIMIT 1").fetchone()
    except sqlite3.OperationalError:  # a store written before reports existed
        return None
    return {"step": row[0], **json.loads(row[1])} if row else None


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


def ensure_stopped(run_dir: Path) -> None:
    """Refuse to touch a run that is training (before deleting it or moving it to the trash)."""
    if read(run_dir, with_history=False).status == "running":
        raise RunError(f"'{run_dir.name}' is still training; stop it before deleting it.")


def delete(run_dir: Path) -> None:
    """Remove a run for good (the window offers the system's trash first)."""
    ensure_stopped(run_dir)
    shutil.rmtree(run_dir)


def model_source(name: str) -> str:
    """What to load for `name`: a run folder stands for its final model, or its latest checkpoint while it
    has none yet; anything else (a model folder, a hub id) is returned as it is."""
    path = Path(name).expanduser()
    if path.is_dir() and is_run(path):
        if (path / MODEL / "config.json").is_file():
            return str(path / MODEL)
        latest = latest_checkpoint(path)
        if latest is None:
            raise RunError(f"The run '{path.name}' has no model or checkpoint yet; wait for its first "
                           "checkpoint or pick another run.")
        return str(latest[1])
    return name


def base_of(model: str) -> dict[str, Any] | None:
    """The run a model to train from belongs to (a run folder, its model/ or one of its checkpoints)."""
    path = Path(model).expanduser()
    if not path.is_dir():
        return None
    source = Path(model_source(str(path)))
    run = run_of(source)
    if run is None:
        return None
    step = _CHECKPOINT.match(source.name)
    return {"run": run.name, "path": str(run), "step": int(step.group(1)) if step else None}


def run_of(model_dir: str | Path) -> Path | None:
    """The run a model folder belongs to (RUN/model or RUN/checkpoints/checkpoint-N), if any."""
    path = Path(model_dir)
    for candidate in (path, path.parent, path.parent.parent):
        if (candidate / CONFIG_FILE).is_file():
            return candidate
    return None


def read_config(run_dir: Path) -> dict[str, Any]:
    """The run's settings as saved (the [run] table of its config.toml); empty if unreadable."""
    import tomllib

    try:
        values = tomllib.loads((run_dir / CONFIG_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return values.get("run", values)


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


def new_run_dir(root: Path, model: str, task: str) -> Path:
    """A fresh, unused run folder name such as 2026-11-22_153012-gpt-tiny-lm."""
    stamp = time.strftime("%Y-%m-%d_%H%M%S")
    base = f"{stamp}-{re.sub(r'[^A-Za-z0-9_.-]+', '-', Path(model).name)}-{task}"
    candidate, n = root / base, 1
    while candidate.exists():
        n += 1
        candidate = root / f"{base}-{n}"
    return candidate
