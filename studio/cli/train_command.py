"""`studio train`: start or resume a run, with a progress bar; Ctrl-C saves a checkpoint and exits 130."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path
from typing import Any

from studio.core.training import config as run_config
from studio.core.data import samples
from studio.core.system import workspace
from studio.core.control import Control
from studio.core.errors import ConfigError

# flag -> RunConfig field, for the flags that map one to one
_FLAGS = {"task": "task", "data": "data", "text_column": "text_column", "source_column": "source_column",
          "target_column": "target_column", "model": "model", "tokenizer": "tokenizer", "vocab_size": "vocab_size",
          "seq_len": "seq_len", "target_len": "target_len", "max_steps": "max_steps", "batch_size": "batch_size",
          "grad_accum": "grad_accum", "lr": "lr", "eval_every": "eval_every", "save_every": "save_every",
          "seed": "seed", "device": "device", "precision": "precision", "trust_remote_code": "trust_remote_code",
          "validation_fraction": "validation_fraction", "probe_text": "probe_text"}


def register(commands: Any) -> None:
    p = commands.add_parser("train", help="train or fine-tune a model (a new run, or --resume one)",
                            description="Train a model. With no options: a tiny GPT on sample:python-code.")
    p.add_argument("--config", metavar="FILE.toml", help="settings file; flags given here override it")
    p.add_argument("--task", choices=["lm", "summarize"], help="lm (language modelling) or summarize")
    p.add_argument("--data", metavar="PATH|sample:NAME", help="a file, a folder, or " +
                   ", ".join("sample:" + n for n in samples.SAMPLES))
    p.add_argument("--text-column", metavar="C")
    p.add_argument("--source-column", metavar="S")
    p.add_argument("--target-column", metavar="T")
    p.add_argument("--model", metavar="PRESET|DIR|HUB_ID", help="gpt-tiny, gpt-small, bart-tiny, bart-small, "
                   "t5-tiny, a model folder, or a hub id")
    p.add_argument("--tokenizer", metavar="DIR", help="use this tokenizer instead of training one")
    p.add_argument("--vocab-size", type=int, metavar="N")
    p.add_argument("--seq-len", type=int, metavar="N", help="tokens per block (lm) or source limit (summarize)")
    p.add_argument("--target-len", type=int, metavar="N", help="summary length limit in tokens")
    p.add_argument("--max-steps", type=int, metavar="N")
    p.add_argument("--batch-size", type=int, metavar="N")
    p.add_argument("--grad-accum", type=int, metavar="N", help="gradient accumulation steps")
    p.add_argument("--lr", type=float, metavar="X", help="peak learning rate")
    p.add_argument("--eval-every", type=int, metavar="N")
    p.add_argument("--save-every", type=int, metavar="N")
    p.add_argument("--validation-fraction", type=float, metavar="X", help="share of rows held out (0.05)")
    p.add_argument("--probe-text", metavar="TEXT", help="record this text's attention at every evaluation, "
                   "to watch heads form in the Attention panel")
    p.add_argument("--seed", type=int, metavar="N")
    p.add_argument("--device", metavar="D", help="auto, cuda, mps or cpu")
    p.add_argument("--precision", choices=["auto", "bf16", "fp16", "fp32"])
    p.add_argument("--trust-remote-code", action="store_true", default=None,
                   help="allow a hub model to run its own code (only for authors you trust)")
    p.add_argument("--out", metavar="RUN_DIR", help="the run folder (default: a new folder in the workspace)")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue this run from its latest checkpoint")
    p.set_defaults(func=run)


def _given(args: argparse.Namespace) -> dict[str, Any]:
    return {field: getattr(args, flag) for flag, field in _FLAGS.items() if getattr(args, flag) is not None}


def _config(args: argparse.Namespace) -> run_config.RunConfig:
    base = run_config.load(Path(args.config).expanduser()) if args.config else run_config.RunConfig()
    given = _given(args)
    if "task" not in given and not args.config and samples.is_sample(given.get("data", "")):
        given["task"] = samples.sample_task(given["data"])  # --data sample:docstrings implies summarize
    return run_config.from_dict(given, base, origin="the command line")


def run(args: argparse.Namespace) -> int:
    from studio.core.training import engine

    root = workspace.workspace(args.workspace)
    control = Control()
    progress = _Progress()
    previous = _install_sigint(control, progress)
    try:
        if args.resume:
            if args.config or args.out:
                raise ConfigError("--resume continues a run with its own config; drop --config and --out.")
            result = engine.resume(Path(args.resume), _given(args), root=root, listeners=[progress],
                                   control=control)
        else:
            result = engine.train(_config(args), root=root, out=Path(args.out).expanduser() if args.out else None,
                                  listeners=[progress], control=control)
    finally:
        progress.close()
        signal.signal(signal.SIGINT, previous)
    print(result.message, file=sys.stderr)
    print(result.run_dir)
    return 130 if result.status == "stopped" else 0


def _install_sigint(control: Control, progress: _Progress) -> Any:
    def handler(signum: int, frame: Any) -> None:
        if control.stopped:
            raise KeyboardInterrupt  # a second Ctrl-C: leave now; the last complete checkpoint stays valid
        control.stop()
        progress.note("Stopping: saving a checkpoint after this step (Ctrl-C again to quit at once)...")

    return signal.signal(signal.SIGINT, handler)


class _Progress:
    """Stage lines, then one tqdm bar with loss, eval loss and tokens/s."""

    def __init__(self) -> None:
        self.bar: Any = None
        self._last_stage = (None, 0.0)
        self._postfix: dict[str, str] = {}

    def __call__(self, event: Any) -> None:
        from studio.core.training.events import Checkpoint, Metrics, Stage, Status

        if isinstance(event, Stage):
            self._stage(event)
        elif isinstance(event, Metrics):
            self._metrics(event)
        elif isinstance(event, Checkpoint):
            self.note(f"Checkpoint saved at step {event.step}.")
        elif isinstance(event, Status) and event.status in ("paused", "failed"):
            self.note(event.message)

    def _stage(self, event: Any) -> None:
        now = time.monotonic()
        name, at = self._last_stage
        if event.fraction is not None and name == event.message and now - at < 1.0 and event.fraction < 1.0:
            return  # one line a second per stage is plenty on a terminal
        self._last_stage = (event.message, now)
        suffix = f" {event.fraction:.0%}" if event.fraction is not None else ""
        self.note(event.message + suffix)

    def _metrics(self, event: Any) -> None:
        from tqdm import tqdm

        if self.bar is None:
            self.bar = tqdm(total=event.planned_steps, initial=event.step, unit="step", dynamic_ncols=True, mininterval=0.5,
                            file=sys.stderr)
        v = event.values
        if "train_loss" in v:
            self._postfix["loss"] = f"{v['train_loss']:.3f}"
        if "tokens_per_second" in v:
            self._postfix["tok/s"] = f"{v['tokens_per_second']:,.0f}"
        if "eval_loss" in v:
            self._postfix["val"] = f"{v['eval_loss']:.3f}"
        if "eval_rougeL" in v:
            self._postfix["rougeL"] = f"{v['eval_rougeL']:.3f}"
        self.bar.n = event.step
        self.bar.set_postfix(self._postfix, refresh=False)
        self.bar.refresh()

    def note(self, message: str) -> None:
        if self.bar is not None:
            self.bar.write(message, file=sys.stderr)
        else:
            print(message, file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
