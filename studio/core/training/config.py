"""A run's settings: one dataclass, saved as TOML in the run folder, checked before anything starts."""

from __future__ import annotations

import dataclasses
import math
import shlex
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from studio.core.data import samples
from studio.core.data.tokenizer import MAX_VOCAB, MIN_VOCAB
from studio.core.errors import ConfigError
from studio.core.modeling.presets import MAX_POSITIONS, PRESETS
from studio.core.system.device import DEVICES, PRECISIONS
from studio.core.tasks import registry
from studio.core.tasks.base import Task

MAX_PROBE_CHARS = 2000
MAX_MINUTES = 7 * 24 * 60
MAX_PROCESSES = 64


@dataclass
class RunConfig:
    task: str = "lm"
    data: str = ""  # empty: the task's built-in sample
    text_column: str = ""
    source_column: str = ""
    target_column: str = ""
    label_column: str = ""
    tokens_column: str = ""
    tags_column: str = ""
    model: str = ""  # empty: the task's default preset
    tokenizer: str = ""  # empty: train one for a preset, or use the model's own
    vocab_size: int = 4096
    seq_len: int = 128  # block length for LM; source length limit for summarization; text limit for classifiers
    target_len: int = 48  # summary length limit
    max_steps: int = 600
    minutes: float = 0.0  # a time budget: above 0, Studio times this machine and sets the steps to fit
    batch_size: int = 16  # 0: auto, the largest that fits in the device's memory (searched when the run starts)
    grad_accum: int = 1
    lr: float = 1e-3
    warmup: float = 0.05  # a fraction of max_steps
    weight_decay: float = 0.01
    eval_every: int = 100
    save_every: int = 200
    keep_checkpoints: int = 3
    log_every: int = 10
    validation_fraction: float = 0.05
    eval_rows: int = 256  # cap on validation rows; generation for ROUGE is slow
    seed: int = 42
    device: str = "auto"
    precision: str = "auto"
    trust_remote_code: bool = False
    probe_text: str = ""  # recorded as attention at each evaluation; empty: none
    mlm_probability: float = 0.15  # masked LM: share of tokens chosen for prediction (80% masked, 10% random)
    whole_word_mask: bool = False  # masked LM: choose whole words, not single sub-word pieces
    lora: bool = False  # train low-rank adapters (peft) instead of every weight; the base stays frozen
    lora_r: int = 8  # the adapters' rank
    lora_alpha: float = 16.0  # their scale is alpha / r
    lora_dropout: float = 0.05
    lora_targets: str = ""  # comma-separated layer names, "all-linear", or empty: peft's choice for the family
    qlora: bool = False  # LoRA on a base loaded in 4 bits (bitsandbytes, CUDA only); implies lora
    compile: bool = False  # torch.compile the model: a slow first step, faster steps after (mostly on a GPU)
    gradient_checkpointing: bool = False  # keep only each layer's input and recompute the rest: less memory, slower
    early_stopping: int = 0  # above 0: stop after this many evaluations without a lower validation loss, keep the best
    num_processes: int = 1  # above 1: one process per GPU (or CPU processes), started by accelerate's launcher
    fsdp: bool = False  # shard weights, gradients and optimizer state across the GPUs instead of copying them
    accelerate_config: str = ""  # an accelerate config file (several machines); its settings rule the launch

    @classmethod
    def for_task(cls, task: str) -> RunConfig:
        """The defaults of a run of `task`: RunConfig's own, with the task's recipe over them."""
        return cls(task=task, **dict(registry.get(task).recipe))

    def several_processes(self) -> bool:
        """Whether the run trains in processes started by accelerate's launcher (see training/launch.py)."""
        return self.num_processes > 1 or self.fsdp or bool(self.accelerate_config)

    def adapters(self) -> dict[str, Any] | None:
        """The arguments of `modeling.lora.wrap` for this run; None when it trains every weight."""
        if not self.lora:
            return None
        return {"r": self.lora_r, "alpha": self.lora_alpha, "dropout": self.lora_dropout,
                "target_text": self.lora_targets, "task_type": registry.get(self.task).peft_task_type}

    def resolved(self) -> RunConfig:
        """Fill in the defaults that depend on the task (data, model)."""
        out = dataclasses.replace(self)
        task = registry.get(out.task)
        out.data = out.data or task.default_data
        out.model = out.model or task.default_preset
        out.lora = out.lora or out.qlora
        return out

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def columns(self, task: Task) -> dict[str, str]:
        """The person's column choice for each of the task's roles ("" to guess)."""
        return {c.role: getattr(self, c.field) for c in task.columns}


def validate(config: RunConfig) -> RunConfig:
    """Raise `ConfigError` for settings that cannot work; return the config with defaults filled in."""
    c = config.resolved()
    task = registry.get(c.task)
    if samples.is_sample(c.data):
        samples.check(c.data)
        made_for = registry.for_sample(c.data)
        if c.data not in task.samples and made_for is not None:
            raise ConfigError(f"{c.data} is a {made_for.title.lower()} sample but the task is "
                              f"{task.title.lower()}; pass --task {made_for.name} or another --data.")
    if c.model in PRESETS and c.model not in task.presets:
        raise ConfigError(f"The preset '{c.model}' is not made for {task.title.lower()}; choose one of "
                          f"{', '.join(task.presets)}.")
    if c.batch_size < 0:
        raise ConfigError(f"--batch-size {c.batch_size} is impossible; give a number of rows, or auto to find the "
                          "largest that fits.")
    _positive(c, "max_steps", "grad_accum", "eval_every", "save_every", "keep_checkpoints",
              "log_every", "eval_rows")
    if not MIN_VOCAB <= c.vocab_size <= MAX_VOCAB:
        raise ConfigError(f"--vocab-size {c.vocab_size} is impossible; choose between {MIN_VOCAB} and {MAX_VOCAB}.")
    if not 8 <= c.seq_len <= MAX_POSITIONS:
        raise ConfigError(f"--seq-len {c.seq_len} is impossible; choose between 8 and {MAX_POSITIONS}.")
    if not 4 <= c.target_len <= MAX_POSITIONS:
        raise ConfigError(f"target_len {c.target_len} is impossible; choose between 4 and {MAX_POSITIONS}.")
    if not (math.isfinite(c.lr) and 0 < c.lr < 1):
        raise ConfigError(f"--lr {c.lr} is impossible; a learning rate is above 0 and below 1 (1e-5 to 1e-3 "
                          "is usual).")
    if not (math.isfinite(c.minutes) and 0 <= c.minutes <= MAX_MINUTES):
        raise ConfigError(f"--minutes {c.minutes:g} is impossible; give a budget above 0 and up to {MAX_MINUTES:,} "
                          "(a week), or leave it out to count steps.")
    if not 0 <= c.warmup < 1:
        raise ConfigError(f"warmup {c.warmup} must be a fraction of the steps, from 0 up to (not including) 1.")
    if not 0 <= c.weight_decay < 1:
        raise ConfigError(f"weight_decay {c.weight_decay} must be from 0 up to (not including) 1.")
    if not 0 < c.mlm_probability < 1:
        raise ConfigError(f"--mlm-probability {c.mlm_probability} must be above 0 and below 1 (0.15 is usual).")
    if not 0 < c.validation_fraction < 0.5:
        raise ConfigError(f"validation_fraction {c.validation_fraction} must be above 0 and below 0.5.")
    if len(c.probe_text) > MAX_PROBE_CHARS:
        raise ConfigError(f"The attention probe text is {len(c.probe_text):,} characters; keep it under "
                          f"{MAX_PROBE_CHARS} (only its first 64 tokens are recorded).")
    _check_lora(c)
    _check_processes(c)
    _check_early_stopping(c)
    if c.device.split(":")[0] not in DEVICES:
        raise ConfigError(f"Unknown device '{c.device}'; choose one of {', '.join(DEVICES)}.")
    if c.precision not in PRECISIONS:
        raise ConfigError(f"Unknown precision '{c.precision}'; choose one of {', '.join(PRECISIONS)}.")
    return c


def _check_lora(c: RunConfig) -> None:
    if not c.lora:
        return
    if c.model in PRESETS:
        raise ConfigError(f"LoRA adapts a model that has already learned; {c.model} starts from random weights, so "
                          "train it fully (drop --lora), or pass a finished run or a hub model as --model.")
    if c.lora_r < 1:
        raise ConfigError(f"--lora-r {c.lora_r} is impossible; the rank is at least 1 (4 to 64 is usual).")
    if not (math.isfinite(c.lora_alpha) and c.lora_alpha > 0):
        raise ConfigError(f"--lora-alpha {c.lora_alpha:g} must be above 0 (usually twice the rank).")
    if not 0 <= c.lora_dropout < 1:
        raise ConfigError(f"--lora-dropout {c.lora_dropout:g} must be from 0 up to (not including) 1.")


def _check_early_stopping(c: RunConfig) -> None:
    if c.early_stopping < 0:
        raise ConfigError(f"--early-stopping {c.early_stopping} is impossible; give a number of evaluations (3 is "
                          "usual), or 0 for none.")
    if not c.early_stopping:
        return
    if c.minutes:
        raise ConfigError("--early-stopping and --minutes both decide when a run ends; give one of them.")
    if c.save_every % c.eval_every:
        raise ConfigError(f"--early-stopping keeps the best checkpoint, so checkpoints must fall on evaluations: "
                          f"make --save-every ({c.save_every}) a multiple of --eval-every ({c.eval_every}).")


def _check_processes(c: RunConfig) -> None:
    if not 1 <= c.num_processes <= MAX_PROCESSES:
        raise ConfigError(f"--num-processes {c.num_processes} is impossible; give 1 to {MAX_PROCESSES} (one per "
                          "GPU is usual).")
    if c.accelerate_config and not Path(c.accelerate_config).expanduser().is_file():
        raise ConfigError(f"The accelerate config file '{c.accelerate_config}' does not exist; write one with "
                          "'accelerate config' or check the path.")
    several = c.several_processes()
    if several and c.minutes:
        raise ConfigError("--minutes times one process on this machine and cannot plan for several; give "
                          "--max-steps instead.")
    if several and c.qlora:
        raise ConfigError("QLoRA trains in one process here; drop --qlora (plain --lora works with several "
                          "processes) or --num-processes.")


def _positive(c: RunConfig, *names: str) -> None:
    for name in names:
        value = getattr(c, name)
        if value < 1:
            flag = "--" + name.replace("_", "-")
            raise ConfigError(f"{flag} {value} is impossible; it must be at least 1.")


_TYPES = {f.name: f.type for f in fields(RunConfig)}


def from_dict(values: dict[str, Any], base: RunConfig | None = None, origin: str = "the config") -> RunConfig:
    """Apply `values` over `base`, checking names and types so a typo is an error, not a silent default."""
    config = dataclasses.replace(base) if base else RunConfig()
    for key, value in values.items():
        name = key.replace("-", "_")
        if name not in _TYPES:
            raise ConfigError(f"{origin} has an unknown setting '{key}'; known settings are "
                              f"{', '.join(sorted(_TYPES))}.")
        kind = _TYPES[name]
        try:
            if kind == "bool":
                if not isinstance(value, bool):
                    raise TypeError
            elif kind == "int":
                if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                    raise TypeError
                value = int(value)
            elif kind == "float":
                if isinstance(value, bool):
                    raise TypeError
                value = float(value)
            else:
                value = str(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{origin}: '{key}' should be {_KIND_WORDS[kind]}, not {value!r}.") from None
        setattr(config, name, value)
    return config


_KIND_WORDS = {"bool": "true or false", "int": "a whole number", "float": "a number", "str": "text"}


def load(path: Path, base: RunConfig | None = None) -> RunConfig:
    return from_dict(read_values(path), base, origin=f"'{path.name}'")


def read_values(path: Path) -> dict[str, Any]:
    """The settings a TOML file gives (its [run] table), unchecked; a sentence when it cannot be read."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"The config file '{path}' does not exist; check the path.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Cannot read the config file '{path}' ({exc}); it must be UTF-8 TOML.") from None
    try:
        values = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"'{path.name}' is not valid TOML ({exc}); fix that line.") from None
    return values.get("run", values)


def from_scratch(run_dir: Path) -> RunConfig:
    """A run's settings with its base run's preset and tokenizer instead of the base's trained weights: the
    same fine-tune from scratch, to see what pretraining bought."""
    from studio.core.runs import store as runs

    base = runs.read(run_dir, with_history=False).base
    if base is None:
        raise ConfigError(f"'{run_dir.name}' did not start from another run, so there is nothing to compare it with "
                          "from scratch.")
    base_config = load(Path(base["path"]) / runs.CONFIG_FILE)
    if base_config.model not in PRESETS:
        raise ConfigError(f"The run '{base['run']}' started from '{base_config.model}', not from a preset, so there "
                          "is no untrained twin to build; compare with a run you start yourself.")
    config = load(run_dir / runs.CONFIG_FILE)
    return dataclasses.replace(config, model=base_config.model, tokenizer=str(Path(base["path"]) / runs.TOKENIZER),
                               lora=False)  # adapters on random weights would learn nothing to compare


def dumps(config: RunConfig) -> str:
    import tomli_w

    return tomli_w.dumps({"run": config.as_dict()})


def command_line(c: RunConfig) -> str:
    """The `studio train` command for `c`, with only the flags that differ from the defaults."""
    default = RunConfig.for_task(c.task).resolved()
    flags = ["studio", "train", "--task", c.task, "--data", c.data, "--model", c.model]
    left_out = {"max_steps", "eval_every", "save_every"} if c.minutes else set()  # a budget plans these itself
    if c.qlora:
        left_out.add("lora")  # --qlora says it
    if not c.lora:
        left_out |= {"lora_r", "lora_alpha", "lora_dropout", "lora_targets"}  # they mean nothing without --lora
    names = [col.field for col in registry.get(c.task).columns] + [
        "tokenizer", "vocab_size", "seq_len", "target_len", "minutes", "max_steps", "batch_size", "grad_accum", "lr",
        "eval_every", "save_every", "validation_fraction", "seed", "device", "precision", "probe_text",
        "mlm_probability", "whole_word_mask", "lora", "lora_r", "lora_alpha", "lora_dropout", "lora_targets",
        "qlora", "gradient_checkpointing", "compile", "early_stopping", "num_processes", "fsdp", "accelerate_config"]
    for name in (n for n in names if n not in left_out):
        value = getattr(c, name)
        if value in ("", None) or value == getattr(default, name):
            continue
        shown = f"{value:g}" if isinstance(value, float) else str(value)
        if name == "batch_size" and value == 0:
            shown = "auto"
        flags += ["--" + name.replace("_", "-")] + ([] if isinstance(value, bool) else [shown])
    return shlex.join(flags)
