"""The window while it trains: event-loop lag (a 10 ms heartbeat) and throughput against the same run
without a window (the command line's engine call), alternating in one process.

Targets: heartbeat lag p99 under 30 ms; throughput with the window >= 0.95 of the command line's.
"""

from __future__ import annotations

import argparse

import numpy as np
from _common import engine_steps_per_second, median, open_window, report, scratch


def tokens_per_second(steps: list[float], times: list[float], tokens_per_step: int) -> float:
    # the first logged step pays one-off costs; measure from the second log on, like bench_train
    return (steps[-1] - steps[1]) * tokens_per_step / (times[-1] - times[1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--heartbeat-ms", type=int, default=10, help="0: no heartbeat (throughput only)")
    args = parser.parse_args()
    root = scratch()
    app, window = open_window(root)
    window.finish_setup()  # lists the runs in a background job, which imports the heavy libraries first
    from studio.core.system.warm import warm_up

    warm_up()  # the command-line runs below import them on this thread: one import at a time (see warm.py)

    from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer

    from studio.core.training.config import RunConfig, validate

    config = validate(RunConfig(data="sample:python-code", max_steps=args.steps, eval_every=10**6,
                                save_every=10**6, device="cpu"))
    per_step = config.batch_size * config.seq_len * config.grad_accum

    def cli_run(i: int) -> float:
        return engine_steps_per_second(root, config, f"cli{i}") * per_step

    def window_run() -> tuple[float, list[float]]:
        lags: list[float] = []
        clock = QElapsedTimer()
        beat = args.heartbeat_ms
        heartbeat = QTimer(interval=beat)
        heartbeat.timeout.connect(lambda: (lags.append(max(0.0, clock.nsecsElapsed() / 1e6 - beat)),
                                           clock.restart()))
        panel = window.train_panel
        panel.start(config)
        clock.start()
        if beat:
            heartbeat.start()
        loop = QEventLoop()
        panel.thread.finished.connect(loop.quit)
        if panel.training:
            loop.exec()  # the real event loop, idle between events, as in the app
        heartbeat.stop()
        app.processEvents()
        series = panel.monitor.series
        return tokens_per_second(series.train["step"], series.train["time"], per_step), lags

    cli_run(-1)  # warm-up: sample, tokenizer cache and kernels
    cli, ui, all_lags = [], [], []
    for i in range(args.rounds):
        cli.append(cli_run(i))
        tps, lags = window_run()
        ui.append(tps)
        all_lags.extend(lags[5:])  # the first beats overlap the run's set-up in the same thread
    lags = np.asarray(all_lags or [0.0])
    report("window_while_training", {
        "steps": args.steps, "rounds": args.rounds, "heartbeats": int(len(lags)),
        "lag_p50_ms": round(float(np.percentile(lags, 50)), 2), "lag_p99_ms": round(float(np.percentile(lags, 99)), 2),
        "lag_max_ms": round(float(lags.max()), 2), "cli_tokens_per_second": round(median(cli)),
        "window_tokens_per_second": round(median(ui)), "ratio": round(median(ui) / median(cli), 3)})


if __name__ == "__main__":
    main()
