"""Time from launching `studio` to the window being on screen (median of several cold starts).

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

from _common import median, report

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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"),
               STUDIO_WORKSPACE=tempfile.mkdtemp(prefix="studio-bench-"), XDG_CONFIG_HOME=tempfile.mkdtemp())
    start_seconds(STUDIO, env)  # the first start fills the OS file cache; users rarely see a colder one
    studio = [start_seconds(STUDIO, env) for _ in range(args.rounds)]
    bare = [start_seconds(BARE, env) for _ in range(args.rounds)]
    report("startup", {"rounds": args.rounds, "studio_median_s": round(median(studio), 3),
                       "bare_pyside6_median_s": round(median(bare), 3), "target_s": 1.0,
                       "studio_each": [round(s, 3) for s in studio]})


if __name__ == "__main__":
    main()
