"""Listing a workspace of many long runs: the Runs tab, `studio runs list` and the model pickers.

The listing reads each run's meta and asks SQLite for the last value and the best evaluation of each
metric (`reader.list_runs`). The baseline is the full read of every run that listing used to do: every
metric row of every run into Python. A second figure is what a person feels: the longest gap between
ticks of a 10 ms timer on the UI thread while the Runs tab lists the workspace (in the background now),
against filling it on the UI thread (the worst of the rounds for both).
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import time
from pathlib import Path

from _common import median, report, scratch


def make_runs(root: Path, count: int, steps: int) -> int:
    """Write `count` finished runs of `steps` logged steps each; the number of metric rows written."""
    from studio.core.runs import writer

    written = 0
    for index in range(count):
        run_dir = root / f"2026-12-01_{index:06d}-gpt-tiny-lm"
        run_dir.mkdir(parents=True)
        (run_dir / "config.toml").write_text(
            f'[run]\ntask = "lm"\nmodel = "gpt-tiny"\ndata = "code.txt"\nmax_steps = {steps}\n', encoding="utf-8")
        store = writer.RunStore(run_dir)
        store.mark_running(steps)
        store.close()
        rng = random.Random(index)
        rows = []
        for step in range(1, steps + 1):
            rows += [(step, "loss", 5 * rng.random(), 0.0), (step, "learning_rate", 1e-3, 0.0),
                     (step, "tokens_seen", step * 2048.0, 0.0)]
            if step % 50 == 0:
                rows += [(step, "eval_loss", 4 * rng.random(), 0.0), (step, "eval_perplexity", 50 * rng.random(), 0.0)]
        written += len(rows)
        # one transaction per run: the setup, not what is measured
        with sqlite3.connect(run_dir / "metrics.sqlite") as conn:
            conn.executemany("INSERT INTO metrics (step, name, value, time) VALUES (?, ?, ?, ?)", rows)
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('global_step', ?)", (str(steps),))
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('status', '\"completed\"')")
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('started', ?)", (str(1.79e9 + index),))
        conn.close()
    return written


def full_reads(root: Path) -> list:
    from studio.core.runs import layout, reader

    infos = [reader.read(child) for child in root.iterdir() if layout.is_run(child)]
    return sorted(infos, key=lambda i: i.started or 0, reverse=True)


def timed(work, rounds: int) -> float:
    seconds = []
    for _ in range(rounds):
        began = time.perf_counter()
        work()
        seconds.append(time.perf_counter() - began)
    return median(seconds)


def longest_stall(list_in_background: bool) -> tuple[float, float]:
    """(longest gap between timer ticks, seconds until the table is filled) while the Runs tab lists."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from studio.core.runs import reader
    from studio.core.system import workspace
    from studio.ui.panels.train import runs_view

    app = QApplication.instance() or QApplication([])
    view = runs_view.RunsView()
    view.resize(1200, 600)
    view.show()
    app.processEvents()
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    app.processEvents()
    began = time.perf_counter()
    ticks.append(began)
    if list_in_background:
        view.refresh()
        while view.listing:
            app.processEvents()
            time.sleep(0.001)
    else:
        root = workspace.runs_dir(workspace.workspace())
        view._fill([(info, runs_view._cells(info), runs_view._tip(info)) for info in reader.list_runs(root)])
    filled = time.perf_counter() - began
    end = time.perf_counter() + 0.05
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.001)
    timer.stop()
    rows = view.table.rowCount()
    view.close()
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    assert rows > 0, "the Runs tab listed nothing"
    return max(gaps), filled


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    workspace = scratch()
    os.environ["STUDIO_WORKSPACE"] = str(workspace)
    from studio.core.runs import reader
    from studio.core.system import workspace as workspaces

    root = workspaces.runs_dir(workspace)
    began = time.perf_counter()
    written = make_runs(root, args.runs, args.steps)
    setup = time.perf_counter() - began
    listed = reader.list_runs(root)
    full = full_reads(root)
    assert [i.name for i in listed] == [i.name for i in full] and all(
        a.last == b.last and a.extremes == b.extremes for a, b in zip(listed, full)), "the two listings differ"
    aggregate = timed(lambda: reader.list_runs(root), args.rounds)
    baseline = timed(lambda: full_reads(root), args.rounds)
    longest_stall(True)  # warm: the first listing imports the task registry, as the window does at start
    background_gap, background_filled = (max(each) for each in zip(*(longest_stall(True) for _ in range(args.rounds))))
    foreground_gap, foreground_filled = (max(each) for each in zip(*(longest_stall(False) for _ in range(args.rounds))))
    report("runs_list", {
        "runs": args.runs, "logged_steps_per_run": args.steps, "metric_rows": written,
        "setup_seconds": round(setup, 1),
        "list_runs_seconds": round(aggregate, 3), "full_read_seconds": round(baseline, 3),
        "speedup_vs_full_read": round(baseline / aggregate, 2),
        "runs_tab_longest_ui_gap_ms": round(background_gap * 1000, 1),
        "runs_tab_filled_seconds": round(background_filled, 3),
        "on_ui_thread_longest_gap_ms": round(foreground_gap * 1000, 1),
        "on_ui_thread_filled_seconds": round(foreground_filled, 3),
    })


if __name__ == "__main__":
    main()
