"""Time from launching `studio` to the window being on screen (median of several cold starts), with an
empty workspace and with one of 200 finished runs (a returning user's: the wizard and the Runs tab list them).

Each start is a fresh process running the real entry point; the window reports the moment it has been
shown and painted once, then quits. The baseline is a bare PySide6 window in the same conditions.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import median, report
from bench_runs_list import make_runs

STUDIO = """
import sys, time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
real_exec = QApplication.exec
def exec_and_report(app):
    QTimer.singleShot(0, lambda: (print("SHOWN", time.time(), flush=True), QApplication.quit()))
    return real_exec()
QApplication.exec = exec_and_report
from studio.launcher import main
main([])
"""
BARE = """
import time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication([])
w = QMainWindow(); w.resize(1200, 780); w.show()
QTimer.singleShot(0, lambda: (print("SHOWN", time.time(), flush=True), app.quit()))
app.exec()
"""


def start_seconds(code: str, env: dict[str, str]) -> float:
    began = time.time()
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120).stdout
    shown = float(next(line.split()[1] for line in out.splitlines() if line.startswith("SHOWN")))
    return shown - began


def workspace_with_runs(count: int) -> str:
    """A workspace of `count` finished language-model runs, each with its model's config and the record of
    the tasks it trains into, as the engine writes them."""
    import sqlite3

    root = Path(tempfile.mkdtemp(prefix="studio-bench-"))
    runs = root / "runs"
    runs.mkdir()
    make_runs(runs, count, 200)
    for run_dir in runs.iterdir():
        (run_dir / "model").mkdir()
        (run_dir / "model" / "config.json").write_text('{"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"]}')
        with sqlite3.connect(run_dir / "metrics.sqlite") as conn:
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('trains_into', '[\"lm\", \"chat\"]')")
        conn.close()
    return str(root)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    figures: dict[str, object] = {"rounds": args.rounds}
    for label, count in (("empty", 0), (f"{args.runs}_runs", args.runs)):
        env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"),
                   STUDIO_WORKSPACE=workspace_with_runs(count), XDG_CONFIG_HOME=tempfile.mkdtemp())
        start_seconds(STUDIO, env)  # the first start fills the OS file cache; users rarely see a colder one
        studio = [start_seconds(STUDIO, env) for _ in range(args.rounds)]
        figures[f"studio_{label}_median_s"] = round(median(studio), 3)
        figures[f"studio_{label}_each"] = [round(s, 3) for s in studio]
    bare = [start_seconds(BARE, env) for _ in range(args.rounds)]
    figures.update(bare_pyside6_median_s=round(median(bare), 3), target_s=1.0)
    report("startup", figures)


if __name__ == "__main__":
    main()
