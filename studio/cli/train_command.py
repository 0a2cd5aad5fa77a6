"""`studio train`: start or resume a run, with a progress bar; Ctrl-C saves a checkpoint and exits 130."""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
import time
from pathlib import Path
from typing import Any

from studio.cli.common import column_flags
from studio.core.control import Control
from studio.core.data import samples
from studio.core.errors import ConfigError
from studio.core.modeling.presets import PRESETS
from studio.core.runs.store import read_config
from studio.core.system import workspace
from studio.core.tasks import registry
from studio.core.training import config as run_config

# flags that map one to one onto RunConfig fields (the column flags come from the tasks)
_FLAGS = ("task", "data", "model", "tokenizer", "vocab_size", "seq_len", "target_len", "max_steps", "minutes",
          "batch_size",
          "grad_accum", "lr", "eval_every", "save_every", "seed", "device", "precision", "trust_remote_code",
          "validation_fraction", "probe_text", "mlm_probability", "whole_word_mask", "lora", "lora_r", "lora_alpha",
          "lora_dropout", "lora_targets", "qlora", "gradient_checkpointing", "compile", "early_stopping",
          "num_processes", "fsdp",
          "accelerate_config")


def register(commands: Any) -> None:
    p = commands.add_parser("train", help="train or fine-tune a model (a new run, or --resume one)",
                            description="Train a model. With no options: a tiny GPT on sample:python-code.")
    p.add_argument("--config", metavar="FILE.toml", help="settings file; flags given here override it")
    p.add_argument("--task", choices=list(registry.TASKS), help="; ".join(
        f"{t.name}: {t.title.lower()} (default data {t.default_data}, model {t.default_preset})"
        for t in registry.all_tasks()) + ". Default: lm, or the task of the sample given as --data")
    p.add_argument("--data", metavar="PATH|sample:NAME", help="a file, a folder, or " +
                   ", ".join("sample:" + n for n in samples.SAMPLES))
    column_flags(p)
    p.add_argument("--model", metavar="PRESET|RUN_DIR|DIR|HUB_ID", help=f"a preset ({', '.join(PRESETS)}), a "
                   "finished run, a model folder, or a hub id")
    p.add_argument("--tokenizer", metavar="DIR", help="use this tokenizer instead of training one")
    p.add_argument("--vocab-size", type=int, metavar="N")
    p.add_argument("--seq-len", type=int, metavar="N", help="tokens per block (lm), source limit (summarize) or "
                   "text limit (classify)")
    p.add_argument("--target-len", type=int, metavar="N", help="summary length limit in tokens")
    p.add_argument("--max-steps", type=int, metavar="N")
    p.add_argument("--minutes", type=float, metavar="M", help="a time budget instead of --max-steps: Studio times "
                   "a few steps on this machine and sets the steps, evaluations and checkpoints to end within M "
                   "minutes")
    p.add_argument("--batch-size", type=_batch_size, metavar="N|auto", help="rows per step; auto finds the largest "
                   "that fits in the GPU's memory when the run starts")
    p.add_argument("--grad-accum", type=int, metavar="N", help="gradient accumulation steps")
    p.add_argument("--lr", type=float, metavar="X", help="peak learning rate")
    p.add_argument("--eval-every", type=int, metavar="N")
    p.add_argument("--save-every", type=int, metavar="N")
    p.add_argument("--validation-fraction", type=float, metavar="X", help="share of rows held out (0.05)")
    p.add_argument("--probe-text", metavar="TEXT", help="record this text's attention at every evaluation, "
                   "to watch heads form in the Attention panel")
    p.add_argument("--mlm-probability", type=float, metavar="X", help="mlm: share of tokens the model must "
                   "predict (0.15); of those 80%% become the mask token, 10%% a random token, 10%% stay")
    p.add_argument("--whole-word-mask", action="store_true", default=None,
                   help="mlm: choose whole words to predict, all their pieces at once, not single pieces")
    p.add_argument("--lora", action="store_true", default=None, help="train small low-rank adapters (LoRA) on a "
                   "trained model instead of all its weights: far less memory; exports the merged model and the "
                   "adapter")
    p.add_argument("--lora-r", type=int, metavar="N", help="the adapters' rank (8)")
    p.add_argument("--lora-alpha", type=float, metavar="A", help="their scale is A / rank (16)")
    p.add_argument("--lora-dropout", type=float, metavar="P", help="dropout on the adapters' input (0.05)")
    p.add_argument("--lora-targets", metavar="M,...", help="the layers to adapt, by name (c_attn, query, q_proj, "
                   "...) or all-linear; default: the usual choice for the model family")
    p.add_argument("--qlora", action="store_true", default=None, help="LoRA on a base loaded in 4 bits "
                   "(bitsandbytes; needs a CUDA GPU): about a quarter of the memory for the frozen weights")
    p.add_argument("--compile", action="store_true", default=None, help="compile the model with torch.compile: "
                   "the first steps wait for the compiler, the rest run faster (mostly on a GPU)")
    p.add_argument("--gradient-checkpointing", action="store_true", default=None, help="keep only each layer's "
                   "input during the forward pass and recompute the rest for the backward pass: much less memory "
                   "for activations, about a third slower")
    p.add_argument("--early-stopping", type=int, metavar="N", help="stop when the validation loss has not gone down "
                   "for N evaluations in a row; the exported model is then the best checkpoint, not the last")
    p.add_argument("--num-processes", type=int, metavar="N", help="train in N processes, one per GPU (data "
                   "parallel, through accelerate's launcher); on a machine without GPUs, N CPU processes")
    p.add_argument("--fsdp", action="store_true", default=None, help="shard the weights, gradients and optimizer "
                   "state across the GPUs (FSDP) instead of keeping a copy on each: for models too big for one GPU")
    p.add_argument("--accelerate-config", metavar="FILE", help="an accelerate config file (from 'accelerate "
                   "config'): several machines, or any launch setting; it overrides --num-processes' defaults")
    p.add_argument("--seed", type=int, metavar="N")
    p.add_argument("--device", metavar="D", help="auto, cuda, mps or cpu")
    p.add_argument("--precision", choices=["auto", "bf16", "fp16", "fp32"])
    p.add_argument("--trust-remote-code", action="store_true", default=None,
                   help="allow a hub model to run its own code (only for authors you trust)")
    p.add_argument("--out", metavar="RUN_DIR", help="the run folder (default: a new folder in the workspace)")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue this run from its latest checkpoint")
    p.set_defaults(func=run)


def _batch_size(text: str) -> int:
    if text == "auto":
        return 0  # RunConfig's word for auto
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is neither a number of rows nor auto") from None


def _given(args: argparse.Namespace) -> dict[str, Any]:
    names = list(_FLAGS) + [c.field for c in registry.column_roles()]
    return {name: getattr(args, name) for name in names if getattr(args, name) is not None}


def _config(args: argparse.Namespace) -> run_config.RunConfig:
    path = Path(args.config).expanduser() if args.config else None
    given = _given(args)
    if given.get("minutes") and "max_steps" in given:
        raise ConfigError("Give --minutes or --max-steps, not both: a budget in minutes sets the steps itself.")
    made_for = registry.for_sample(given.get("data", ""))
    if "task" not in given and path is None and made_for is not None:
        given["task"] = made_for.name  # --data sample:docstrings implies its task
    # The task's recipe sits under the file and the flags, so the task must be known first.
    values = run_config.read_values(path) if path else {}
    base = run_config.RunConfig.for_task(given.get("task") or values.get("task") or run_config.RunConfig().task)
    if path is not None:
        base = run_config.from_dict(values, base, origin=f"'{path.name}'")
    return run_config.from_dict(given, base, origin="the command line")


def run(args: argparse.Namespace) -> int:
    from studio.core.training import engine

    root = workspace.workspace(args.workspace)
    control = Control()
    if args.resume:
        if args.config or args.out:
            raise ConfigError("--resume continues a run with its own config; drop --config and --out.")
        task = registry.find(read_config(Path(args.resume).expanduser()).get("task", ""))
    else:
        config = _config(args)
        task = registry.find(config.task)
    progress = _Progress(task.headline if task else ())
    previous = _install_sigint(control, progress)
    try:
        if args.resume:
            result = engine.resume(Path(args.resume), _given(args), root=root, listeners=[progress],
                                   control=control)
        else:
            result = engine.train(config, root=root, out=Path(args.out).expanduser() if args.out else None,
                                  listeners=[progress], control=control)
    finally:
        progress.close()
        signal.signal(signal.SIGINT, previous)
    print(result.message, file=sys.stderr)
    if result.status == "stopped":
        print(f"Continue with: studio train --resume {shlex.quote(result.run_dir)}", file=sys.stderr)
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

    def __init__(self, headline: tuple[Any, ...]) -> None:
        self.headline = headline  # the task's own metrics, shown beside the loss
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
        for metric in self.headline:
            if v.get(metric.name) is not None:
                self._postfix[metric.title] = f"{v[metric.name]:.3f}"
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
