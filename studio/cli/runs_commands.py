"""`studio runs list` and `studio runs show`: the runs in the workspace, readable while they train."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from studio.cli.common import runs_root
from studio.core.errors import RunError
from studio.core.runs import lineage, reader, summary
from studio.core.system import sizes


def register(commands: Any) -> None:
    p = commands.add_parser("runs", help="list runs, or show one (works while it trains)")
    sub = p.add_subparsers(dest="runs_command", required=True, metavar="COMMAND")
    ls = sub.add_parser("list", help="the runs in the workspace, newest first")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=runs_list)
    show = sub.add_parser("show", help="one run: status, steps, checkpoints, metric history")
    show.add_argument("run", metavar="RUN_DIR", help="a run folder, or the name of a run in the workspace")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=runs_show)


def runs_list(args: argparse.Namespace) -> int:
    found = reader.list_runs(runs_root(args))
    if args.json:
        print(json.dumps([r.as_dict(with_history=False) for r in found], indent=2))
        return 0
    if not found:
        print(f"No runs yet in {runs_root(args)}; start one with 'studio train'.", file=sys.stderr)
        return 0
    print(f"{'RUN':44} {'TASK':10} {'STATUS':10} {'STEP':>11} {'TRAIN':>7} {'VAL':>7}")
    for r in found:
        step = f"{r.global_step}/{r.planned_steps}"
        print(f"{r.name:44} {r.task:10} {r.status:10} {step:>11} {_fmt(r.last.get('train_loss'))} "
              f"{_fmt(r.last.get('eval_loss'))}")
    return 0


def _fmt(value: float | None) -> str:
    return f"{value:7.3f}" if isinstance(value, float) else f"{'-':>7}"


def _find_run(args: argparse.Namespace) -> Path:
    path = Path(args.run).expanduser()
    if path.is_dir():
        return path
    named = runs_root(args) / args.run
    if named.is_dir():
        return named
    raise RunError(f"There is no run '{args.run}'; give a run folder, or a name from 'studio runs list'.")


def runs_show(args: argparse.Namespace) -> int:
    run = _find_run(args)
    info = reader.read(run)
    chain = lineage.lineage(run, info.base)
    if args.json:
        print(json.dumps({**info.as_dict(), "lineage": chain}, indent=2))
        return 0
    print(f"{info.name}: {info.status}, step {info.global_step} of {info.planned_steps} ({info.task}, {info.model}, "
          f"{info.data})")
    if info.title:
        print(f"title: {info.title}")
    if info.notes:
        print("notes: " + info.notes.replace("\n", "\n       "))
    if info.error:
        print(f"error: {info.error}")
    if len(chain) > 1:
        print(f"lineage: {lineage.describe(chain)}")
    seconds = summary.trained_seconds(info)
    if seconds is not None:
        print(f"trained for: {sizes.duration(seconds)}")
    if info.parameters:
        trainable = info.trainable_parameters or info.parameters
        print(f"parameters: {info.parameters:,}" + ("" if trainable == info.parameters else
                                                    f" ({trainable:,} trained, {trainable / info.parameters:.2%})"))
    if info.world_size > 1:
        print(f"processes: {info.world_size} (data parallel; batch size per process)")
    for key, value in sorted(info.last.items()):
        print(f"  {key:20} {value if value is None else f'{value:.6g}'}")
    loss = summary.best(info, "eval_loss", higher_is_better=False)
    if loss is not None:
        print(f"best validation loss: {loss[1]:.6g} at step {loss[0]}")
    print(f"checkpoints: {', '.join(str(c['step']) for c in info.checkpoints) or 'none'}")
    print(f"model: {info.model_dir or 'not exported yet'}")
    if info.adapter_dir:
        print(f"adapter: {info.adapter_dir} (LoRA, applies to the model it was trained on)")
    if info.samples:
        last = info.samples[-1]["step"]
        print(f"sample answers at step {last:,} (--json has every evaluation's):")
        for sample in (s for s in info.samples if s["step"] == last):
            print(f"  {summary.one_line(sample['prompt'])!r} -> {summary.one_line(sample['output'])!r}")
    return 0
