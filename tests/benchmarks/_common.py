"""Helpers shared by the benchmark scripts: a scratch workspace, medians, JSON output.

Benchmarks compare Studio with a plain baseline in the same process and report ratios, because the
absolute numbers on shared machines move by tens of percent from one minute to the next.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def scratch() -> Path:
    return Path(tempfile.mkdtemp(prefix="studio-bench-"))


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def report(name: str, figures: dict[str, Any]) -> None:
    import torch

    figures = {"benchmark": name, **figures, "torch": torch.__version__, "python": platform.python_version(),
               "threads": torch.get_num_threads()}
    print(json.dumps(figures, indent=2))
