"""Two runs side by side (the settings that differ) and a run's history as a CSV table."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from studio.core.runs.layout import read_config


def config_diff(a: Path, b: Path) -> list[tuple[str, Any, Any]]:
    """(setting, value in a, value in b) for every setting the two runs' configs disagree on."""
    first, second = read_config(a), read_config(b)
    return [(key, first.get(key), second.get(key)) for key in sorted(first.keys() | second.keys())
            if first.get(key) != second.get(key)]


def history_csv(history: list[dict[str, Any]]) -> str:
    """One row per logged step: step, time, then every metric in the order first seen; empty cells where a
    step did not log a metric."""
    names: dict[str, None] = {}
    for row in history:
        names.update(dict.fromkeys(k for k in row if k not in ("step", "time")))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["step", "time", *names])
    for row in history:
        writer.writerow([row["step"], row.get("time", "")] + ["" if row.get(n) is None else row[n] for n in names])
    return out.getvalue()
