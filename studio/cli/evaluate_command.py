"""`studio evaluate`: score a trained model on a labelled file, whatever its task."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
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
    p.add_argument("--split", choices=("all", "validation"), default="all",
                   help="validation: score only the rows a run of this model holds out of --data (its seed and "
                        "validation fraction), which for the run's own data are the rows it never trained on "
                        "(default: all)")
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
    if args.split == "validation":
        ds, columns, ordered = _held_out(loaded, task, args.data, wanted, cache(args))
    else:
        if samples.is_sample(args.data):
            samples.sample_path(args.data, cache(args))
        source = sources.resolve(args.data, cache(args))
        ds = sources.load_resolved(source, cache(args))
        columns = map_columns(ds, task.columns, wanted, {c.role: c.flag for c in registry.column_roles()})
        ordered = source.builder == "text"
        if _same_data(args.data, loaded.settings.get("data")):
            print(f"Note: these are the rows the model trained on (all but its validation share, "
                  f"{float(loaded.settings.get('validation_fraction', 0.05)):.0%}), so the score flatters it; "
                  "--split validation scores only the rows it held out.", file=sys.stderr)
    bar = _Bar() if len(ds) >= _BAR_ROWS else None
    try:
        scores = task.evaluate(loaded, ds, columns, ordered=ordered, progress=bar)
    finally:
        if bar is not None:
            bar.close()
    if args.json:
        print(json.dumps(scores, ensure_ascii=False))
    else:
        print("\n".join(task.describe_scores(scores)))
    return 0


def _same_data(given: str, trained: str | None) -> bool:
    if not trained:
        return False
    if given.startswith("sample:") or trained.startswith("sample:"):
        return given == trained
    return Path(given).expanduser().resolve() == Path(trained).expanduser().resolve()


def _held_out(loaded: Any, task: Any, data: str, wanted: dict[str, str], cache_dir: Path) -> tuple[Any, dict, bool]:
    """The rows of `data` that the model's run holds out for validation, split as the engine splits them."""
    from studio.core.errors import ConfigError
    from studio.core.training import config as run_config
    from studio.core.training.prepare import load_rows

    if not loaded.settings:
        raise ConfigError("--split validation splits the data as the model's run did, and this model has no run "
                          "(its seed and validation fraction); score all the rows, or give a run folder as --model.")
    config = run_config.from_dict(loaded.settings)
    config.data = data
    config.columns.update(wanted)
    rows = load_rows(config, task, cache_dir, lambda event: None)
    return rows.validation, rows.columns, rows.ordered


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
