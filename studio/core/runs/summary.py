"""What a run's numbers say at a glance: its best evaluation, how long it trained, and whether it has
begun to overfit. Plain functions over a run's info and history, for the Runs list, the CLI and the
monitor.
"""

from __future__ import annotations

import time
from itertools import pairwise
from typing import Any

_RISES = 3  # evaluations in a row with a higher validation loss before the monitor warns


def best(info: Any, name: str, higher_is_better: bool) -> tuple[int, float] | None:
    """(step, value) of the best evaluation of the metric `name`, or None before the first."""
    extremes = info.extremes.get(name)
    if not extremes:
        return None
    side = "max" if higher_is_better else "min"
    return int(extremes[f"{side}_step"]), float(extremes[side])


def trained_seconds(info: Any, now: float | None = None) -> float | None:
    """Seconds spent training, over every session of a resumed run; None when never started."""
    if info.status == "running" and info.started is not None:
        return (info.trained_seconds or 0.0) + (now or time.time()) - info.started
    if info.trained_seconds is not None:  # every finished session added its time
        return info.trained_seconds
    if info.started is not None and info.ended is not None and info.ended >= info.started:
        return info.ended - info.started  # a run stored before sessions were counted
    return None


def overfitting(history: list[dict[str, Any]]) -> str | None:
    """A sentence when validation loss has risen at the last few evaluations while training loss fell."""
    evaluations = [(row["step"], row["eval_loss"]) for row in history if row.get("eval_loss") is not None]
    if len(evaluations) <= _RISES:
        return None
    recent = evaluations[-_RISES - 1:]
    if any(later <= earlier for (_, earlier), (_, later) in pairwise(recent)):
        return None
    first_step, last_step = recent[0][0], recent[-1][0]
    train = [row["train_loss"] for row in history
             if row.get("train_loss") is not None and first_step <= row["step"] <= last_step]
    if len(train) < 2 or _mean(train[len(train) // 2:]) >= _mean(train[: max(1, len(train) // 2)]):
        return None
    best_step, best_loss = min(evaluations, key=lambda e: e[1])
    return (f"Validation loss has risen for {_RISES} evaluations ({recent[0][1]:.3f} at step {first_step:,} to "
            f"{recent[-1][1]:.3f} at step {last_step:,}) while training loss fell: the model is memorising its "
            f"training rows. The best validation loss was {best_loss:.3f} at step {best_step:,}; stop here, or use "
            "early stopping next time.")


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def one_line(text: str, width: int = 60) -> str:
    """`text` on one line, cut to `width` characters (a sample's prompt or answer in a list)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[:width - 1] + "…"
