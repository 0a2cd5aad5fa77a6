"""Data, settings and helpers shared by the tests: tiny corpora and the flags of tiny runs.

Nothing here touches the network: models are presets built from config, and the data is written by
the tests themselves, shaped like real data (code for language modelling, function/summary pairs,
text/label rows for classification).
"""

from __future__ import annotations

import random
from pathlib import Path

from studio.cli import main

WORDS = ("alpha beta gamma delta epsilon zeta theta kappa lambda sigma omega value count total index "
         "result item list name path file data model token").split()
# Three classes a tiny model tells apart within a few dozen steps: each has words of its own.
TOPICS = {
    "maths": "sum product total mean square root divide multiply angle number".split(),
    "files": "open read write path folder close save load disk bytes".split(),
    "network": "socket send receive host port request response connect url server".split(),
}


def lm_lines(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    lines = []
    for i in range(n):
        a, b = rng.choice(WORDS), rng.choice(WORDS)
        lines.append(f"def {a}_{i % 17}({b}):\n    return {b} + {i % 9}  # {a} {b}")
    return lines


def pairs(n: int, seed: int = 1) -> list[dict[str, str]]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        a, b = rng.choice(WORDS), rng.choice(WORDS)
        rows.append({"source": f"def {a}_{b}(x, y):\n    total = x + y\n    return total * {i % 5}",
                     "target": f"Return the {a} {b} total."})
    return rows


def labelled(n: int, seed: int = 2) -> list[dict[str, str]]:
    """Rows of `text` and `label`: a few words of the label's topic among common words."""
    rng = random.Random(seed)
    names = sorted(TOPICS)
    rows = []
    for i in range(n):
        label = names[i % len(names)]
        words = rng.sample(TOPICS[label], 3) + rng.sample(WORDS, 3)
        rng.shuffle(words)
        rows.append({"text": " ".join(words), "label": label})
    return rows


PEOPLE = ["Alice", "Bob", "Carol", "Dmitri", "Eve", "Farid", "Mary Ann", "Jean Luc"]
PLACES = ["Paris", "London", "Lagos", "Lima", "Oslo", "New York", "Kuala Lumpur"]
FILLER = "lives in works near visited left for met with and then".split()


def tagged(n: int, seed: int = 3) -> list[dict[str, list[str]]]:
    """Sentences of people and places with BIO tags (two-word names make I- tags)."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        words: list[str] = []
        tags: list[str] = []
        for kind, names in (("PER", PEOPLE), ("LOC", PLACES), ("PER", PEOPLE)):
            pieces = rng.choice(names).split()
            words += pieces
            tags += [f"B-{kind}"] + [f"I-{kind}"] * (len(pieces) - 1)
            filler = rng.sample(FILLER, 2)
            words += filler
            tags += ["O"] * len(filler)
        rows.append({"tokens": words, "tags": tags})
    return rows


TINY_LM = ["--vocab-size", "400", "--seq-len", "32", "--batch-size", "8", "--max-steps", "24",
           "--eval-every", "8", "--save-every", "8", "--lr", "3e-3", "--device", "cpu"]
PROBE = ["--probe-text", "def total(x, y):\n    return x + y"]
TINY_SUM = ["--task", "summarize", "--model", "bart-tiny", "--vocab-size", "400", "--seq-len", "48",
            "--target-len", "16", "--batch-size", "8", "--max-steps", "16", "--eval-every", "8",
            "--save-every", "8", "--lr", "3e-3", "--device", "cpu"]
TINY_CLS = ["--task", "classify", "--model", "bert-tiny", "--vocab-size", "400", "--seq-len", "32",
            "--batch-size", "16", "--max-steps", "40", "--eval-every", "20", "--save-every", "20", "--lr", "1e-3",
            "--validation-fraction", "0.2", "--device", "cpu"]


TINY_MLM = ["--task", "mlm", "--model", "bert-tiny", "--vocab-size", "400", "--seq-len", "32", "--batch-size", "16",
            "--max-steps", "30", "--eval-every", "15", "--save-every", "15", "--lr", "1e-3", "--device", "cpu"]
TINY_TAG = ["--task", "tag", "--model", "bert-tiny", "--vocab-size", "400", "--seq-len", "32", "--batch-size", "16",
            "--max-steps", "40", "--eval-every", "20", "--save-every", "20", "--lr", "1e-3",
            "--validation-fraction", "0.2", "--device", "cpu"]


def train_cli(workspace: Path, out: Path, data: Path | str, extra: list[str]) -> int:
    return main(["--workspace", str(workspace), "train", "--data", str(data), "--out", str(out), *extra])
