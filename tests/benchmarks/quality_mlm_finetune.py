"""Pretrain, then fine-tune: does a classifier fine-tuned from a masked-LM run learn at least as well as the same
model from scratch?

A bert-tiny masked-LM run (200 steps on the standard library's code, `sample:python-code`) is fine-tuned as a
3-class classifier on two made-up tasks: one whose words the pretraining corpus covers (frequent words of the
corpus, the class told by one of five keywords per class among them) and one whose words it never saw (made-up
words). Each is trained, for 150 steps (--steps) with the defaults, from:

- the masked-LM run as Studio fine-tunes it by default: a mean-pooling layer when its [CLS] is flat
  (`--pooling auto`), and the data's frequent words as tokens when its tokenizer spells them out
  (`--new-words auto`);
- the same without either (`--pooling head --new-words off`: a plain BERT fine-tune), and with each alone;
- bert-tiny from scratch with a tokenizer trained on the task's own data (the same command with no run);
- bert-tiny from scratch with the masked-LM run's tokenizer (the same model, only the pretraining missing).

It prints the held-out accuracy of each, per seed and averaged, and the chars per token the run's tokenizer
reads each task's text at.

    python tests/benchmarks/quality_mlm_finetune.py              # 3 seeds, about 15 minutes on 2 cores
    python tests/benchmarks/quality_mlm_finetune.py --seeds 5 --steps 300 --tasks other
"""

from __future__ import annotations

import argparse
import collections
import csv
import random
import re
import statistics
from pathlib import Path

from _common import cli, report, scratch

_ROWS = 3000
_STARTS = {"mlm, defaults": ("MLM", []),
           "mlm, pooling head, no new words": ("MLM", ["--pooling", "head", "--new-words", "off"]),
           "mlm, pooling head": ("MLM", ["--pooling", "head"]),
           "mlm, no new words": ("MLM", ["--new-words", "off"]),
           "scratch, own tokenizer": ("bert-tiny", []), "scratch, mlm tokenizer": ("bert-tiny", ["--tokenizer", "TOK"])}


def _tasks(corpus_words: list[str], out: Path, seed: int = 0) -> dict[str, Path]:
    """Two 3-class tasks: each row some filler words and one of its class's five keywords, somewhere."""
    r = random.Random(seed)
    syllables = ["ka", "zu", "mor", "vex", "tri", "plo", "gan", "dis", "quo", "lem", "rhy", "bax", "fen", "wub", "jiz"]

    def made_up() -> str:
        return "".join(r.choice(syllables) for _ in range(r.randint(2, 3)))

    other_words = sorted({made_up() for _ in range(600)})[:340]
    shapes = {"covered": (corpus_words[40:380], [corpus_words[380 + 5 * i:385 + 5 * i] for i in range(3)]),
              "other": (other_words, [[made_up() + "x" for _ in range(5)] for _ in range(3)])}
    paths = {}
    for name, (pool, keys) in shapes.items():
        paths[name] = out / f"{name}.csv"
        with paths[name].open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["text", "label"])
            for _ in range(_ROWS):
                label = r.randrange(3)
                words = [r.choice(pool) for _ in range(r.randint(6, 12))]
                words.insert(r.randrange(len(words) + 1), r.choice(keys[label]))
                writer.writerow([" ".join(words), f"class{label}"])
    return paths


def _accuracy(run: Path) -> float:
    from studio.core.runs import reader

    history = reader.read(run).history
    return [row["eval_accuracy"] for row in history if row.get("eval_accuracy") is not None][-1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=150, help="fine-tuning steps of each run (150)")
    parser.add_argument("--tasks", default="covered,other")
    args = parser.parse_args()
    from studio.core.data import sources
    from studio.core.data.tokenizer import load_tokenizer
    from studio.core.system import workspace

    root = scratch()
    ws = ["--workspace", str(root)]
    mlm = root / "mlm"
    cli(*ws, "train", "--task", "mlm", "--model", "bert-tiny", "--max-steps", "200", "--out", str(mlm))
    cache = workspace.cache_dir(root)
    text = " ".join(sources.iter_texts(sources.load("sample:python-code", cache), ["text"]))
    words = [w for w, _ in collections.Counter(re.findall(r"[a-z]{3,}", text.lower())).most_common(600)]
    data = _tasks(words, root)
    tokenizer = load_tokenizer(mlm / "tokenizer")
    figures: dict[str, dict] = {}
    for task, path in ((t, data[t]) for t in args.tasks.split(",")):
        rows = [row["text"] for row in csv.DictReader(path.open(encoding="utf-8"))][:500]
        pieces = sum(len(tokenizer(t, add_special_tokens=False)["input_ids"]) for t in rows)
        figures[task] = {"chars_per_token_of_the_mlm_tokenizer": round(sum(map(len, rows)) / pieces, 2)}
        for label, (model, extra) in _STARTS.items():
            model = str(mlm) if model == "MLM" else model
            extra = [str(mlm / "tokenizer") if a == "TOK" else a for a in extra]
            scores = []
            for seed in range(1, args.seeds + 1):
                out = root / f"{task}-{label.replace(' ', '').replace(',', '-')}-{seed}"
                cli(*ws, "train", "--task", "classify", "--data", str(path), "--model", model, *extra, "--max-steps",
                    str(args.steps), "--eval-every", str(args.steps // 3), "--validation-fraction", "0.1", "--seed", str(seed), "--out",
                    str(out))
                scores.append(round(_accuracy(out), 3))
            figures[task][label] = {"accuracy": scores, "mean": round(statistics.mean(scores), 3)}
    report("quality_mlm_finetune", figures)


if __name__ == "__main__":
    main()
