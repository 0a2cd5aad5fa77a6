"""The training process's handle on a run's metrics store (see `layout`), and the changes made to whole
run folders (deleting one).

WAL lets the window and `studio runs show` read while the trainer writes; every logged step is its own
transaction, so a kill loses at most the step being written.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import socket
import sqlite3
import time
from pathlib import Path
from typing import Any

from studio.core.errors import RunError
from studio.core.runs import reader
from studio.core.runs.layout import METRICS_FILE

STATUSES = ("running", "completed", "stopped", "failed")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS metrics (
    step INTEGER NOT NULL, name TEXT NOT NULL, value REAL, time REAL NOT NULL);  -- NULL: not finite
CREATE INDEX IF NOT EXISTS metrics_step ON metrics (step);
CREATE TABLE IF NOT EXISTS reports (step INTEGER PRIMARY KEY, body TEXT NOT NULL, time REAL NOT NULL);
CREATE TABLE IF NOT EXISTS samples (step INTEGER NOT NULL, idx INTEGER NOT NULL, prompt TEXT NOT NULL,
    output TEXT NOT NULL, reference TEXT NOT NULL, time REAL NOT NULL, PRIMARY KEY (step, idx));
"""


def _connect(path: Path) -> sqlite3.Connection:
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

    def samples(self, step: int, answers: list[dict[str, str]]) -> None:
        """Keep an evaluation's answers to the sample prompts ({"prompt", "output", "reference"} each)."""
        now = time.time()
        with self._conn:
            self._conn.executemany(
                "INSERT OR REPLACE INTO samples (step, idx, prompt, output, reference, time) VALUES (?, ?, ?, ?, ?, ?)",
                [(step, i, a["prompt"], a["output"], a.get("reference", ""), now) for i, a in enumerate(answers)])

    def truncate_after(self, step: int) -> None:
        """Forget what was logged after `step`: a resumed run replays those steps from its checkpoint."""
        with self._conn:
            self._conn.execute("DELETE FROM metrics WHERE step > ?", (step,))
            self._conn.execute("DELETE FROM reports WHERE step > ?", (step,))
            self._conn.execute("DELETE FROM samples WHERE step > ?", (step,))

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

    def samples(self, step: int, answers: list[dict[str, str]]) -> None:
        pass

    def truncate_after(self, step: int) -> None:
        pass

    def mark_running(self, planned_steps: int) -> None:
        pass

    def mark_finished(self, status: str, error: str | None = None) -> None:
        pass


def ensure_stopped(run_dir: Path) -> None:
    """Refuse to touch a run that is training (before deleting it or moving it to the trash)."""
    if reader.read(run_dir, with_history=False).status == "running":
        raise RunError(f"'{run_dir.name}' is still training; stop it before deleting it.")


def delete(run_dir: Path) -> None:
    """Remove a run for good (the window offers the system's trash first)."""
    ensure_stopped(run_dir)
    shutil.rmtree(run_dir)
