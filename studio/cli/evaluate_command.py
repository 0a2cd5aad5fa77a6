"""`studio evaluate`: score a trained model on a labelled file, whatever its task."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from studio.cli.common import cache, column_flags, given_columns, load_model


def register(commands: Any) -> None:
    p = commands.add_parser("evaluate", help="score a trained model on labelled data (accuracy and F1, perplexity "
                            "or ROUGE, by the model's task)")
    p.add_argument("--model", required=True, metavar="DIR", help="a run folder, model folder or hub id")
    p.add_argument("--data", required=True, metavar="PATH|sample:NAME",
                   help="the rows to score: a file, a folder or a built-in sample, in the shape the model trained on")
    p.add_argument("--task", metavar="TASK", help="score as this task's data (a chat model on preference pairs: "
                   "--task prefer); default: the model's own task")
    column_flags(p)
    p.add_argument("--device", default="auto", help="auto, cuda, mps or cpu (default: auto)")
    p.add_argument("--json", action="store_true", help="print the scores as one JSON object")
    p.set_defaults(func=evaluate)


def evaluate(args: argparse.Namespace) -> int:
    from studio.core.data import samples, sources
    from studio.core.data.columns import map_columns
    from studio.core.tasks import registry

    loaded = load_model(args.model, args.device)
    task = loaded.task
    if args.task:
        task = registry.get(args.task)
        registry.check_serves(task, loaded)
    wanted = given_columns(args, task)
    if samples.is_sample(args.data):
        samples.sample_path(args.data, cache(args))
    source = sources.resolve(args.data, cache(args))
    ds = sources.load_resolved(source, cache(args))
    columns = map_columns(ds, task.columns, wanted, {c.role: c.flag for c in registry.column_roles()})
    bar = _Bar() if len(ds) >= _BAR_ROWS else None
    try:
        scores = task.evaluate(loaded, ds, columns, ordered=source.builder == "text", progress=bar)
    finally:
        if bar is not None:
            bar.close()
    if args.json:
        print(json.dumps(scores, ensure_ascii=False))
    else:
        print("\n".join(task.describe_scores(scores)))
    return 0


_BAR_ROWS = 200  # fewer rows are scored before a bar would be worth reading


class _Bar:
    """A progress bar on stderr, fed the fraction done."""

    def __init__(self) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=100, file=sys.stderr, dynamic_ncols=True, mininterval=0.5,
                        bar_format="Evaluating {percentage:3.0f}%|{bar}| {elapsed}<{remaining}")

    def __call__(self, fraction: float) -> None:
        self.bar.update(round(fraction * 100) - self.bar.n)

    def close(self) -> None:
        self.bar.close()
