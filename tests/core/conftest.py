"""Shared fixtures: a workspace in a temp dir, tiny corpora, and tiny trained runs reused across tests.

Nothing here touches the network: HF_HUB_OFFLINE is set, models are presets built from config, and
the data is written by the fixtures themselves.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from studio.cli import main

WORDS = ("alpha beta gamma delta epsilon zeta theta kappa lambda sigma omega value count total index "
         "result item list name path file data model token").split()


def _lm_lines(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    lines = []
    for i in range(n):
        a, b = rng.choice(WORDS), rng.choice(WORDS)
        lines.append(f"def {a}_{i % 17}({b}):\n    return {b} + {i % 9}  # {a} {b}")
    return lines


def _pairs(n: int, seed: int = 1) -> list[dict[str, str]]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        a, b = rng.choice(WORDS), rng.choice(WORDS)
        rows.append({"source": f"def {a}_{b}(x, y):\n    total = x + y\n    return total * {i % 5}",
                     "target": f"Return the {a} {b} total."})
    return rows


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def workspace_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("workspace")


@pytest.fixture
def ws(workspace_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("STUDIO_WORKSPACE", str(workspace_dir))
    return workspace_dir


@pytest.fixture(scope="session")
def lm_text(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "code.txt"
    path.write_text("\n".join(_lm_lines(600)) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def pairs_jsonl(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "pairs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in _pairs(300)), encoding="utf-8")
    return path


TINY_LM = ["--vocab-size", "400", "--seq-len", "32", "--batch-size", "8", "--max-steps", "24",
           "--eval-every", "8", "--save-every", "8", "--lr", "3e-3", "--device", "cpu"]
PROBE = ["--probe-text", "def total(x, y):\n    return x + y"]
TINY_SUM = ["--task", "summarize", "--model", "bart-tiny", "--vocab-size", "400", "--seq-len", "48",
            "--target-len", "16", "--batch-size", "8", "--max-steps", "16", "--eval-every", "8",
            "--save-every", "8", "--lr", "3e-3", "--device", "cpu"]


def train_cli(workspace: Path, out: Path, data: Path | str, extra: list[str]) -> int:
    return main(["--workspace", str(workspace), "train", "--data", str(data), "--out", str(out), *extra])


@pytest.fixture(scope="session")
def lm_run(workspace_dir: Path, lm_text: Path) -> Path:
    out = workspace_dir / "runs" / "lm-run"
    assert train_cli(workspace_dir, out, lm_text, TINY_LM + PROBE) == 0
    return out


@pytest.fixture(scope="session")
def sum_run(workspace_dir: Path, pairs_jsonl: Path) -> Path:
    out = workspace_dir / "runs" / "sum-run"
    assert train_cli(workspace_dir, out, pairs_jsonl, TINY_SUM + PROBE) == 0
    return out
