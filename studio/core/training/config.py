"""A run's settings: one dataclass, saved as TOML in the run folder, checked before anything starts.

Every setting is declared once. Those every run has are the fields below, each with its range and help
(`setting`); a task's own settings (a summarizer's target length) are declared in its module and kept in
`options`, the columns it reads in `columns`. The command line's flags, the TOML keys, the checks, the
wizard's rows and the equivalent command all come from these declarations.
"""

from __future__ import annotations

import copy
import dataclasses
import shlex
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from studio.core.data import samples
from studio.core.data.prompts import read_prompts
from studio.core.data.tokenizer import MAX_VOCAB, MIN_VOCAB
from studio.core.errors import ConfigError
from studio.core.modeling.presets import MAX_POSITIONS, PRESETS
from studio.core.settings import Setting
from studio.core.system.device import DEVICES, PRECISIONS
from studio.core.tasks import registry
from studio.core.tasks.base import Task, TaskConfig

MAX_PROBE_CHARS = 2000
MAX_MINUTES = 7 * 24 * 60
MAX_PROCESSES = 64
_SPEC = "setting"


def setting(default: Any, **spec: Any) -> Any:
    """A RunConfig field declared as a setting: its default, and the rest of its `Setting`."""
    return field(default=default, metadata={_SPEC: spec})


@dataclass
class RunConfig:
    task: str = setting("lm", help="what the model learns (the tasks are listed below)", metavar="TASK")
    data: str = setting("", metavar="PATH|sample:NAME", help="a file, a folder, or " +
                        ", ".join("sample:" + n for n in samples.SAMPLES))  # empty: the task's built-in sample
    model: str = setting("", metavar="PRESET|RUN_DIR|DIR|HUB_ID", help=f"a preset ({', '.join(PRESETS)}), a finished "
                         "run, a model folder, or a hub id")  # empty: the task's default preset
    tokenizer: str = setting("", metavar="DIR", help="use this tokenizer instead of training one")
    vocab_size: int = setting(4096, low=MIN_VOCAB, high=MAX_VOCAB, metavar="N", step=1024,
                              help="tokens a new tokenizer learns")
    # block length for LM; source length limit for summarization; text limit for classifiers
    seq_len: int = setting(128, low=8, high=MAX_POSITIONS, metavar="N", step=32, title="Sequence length",
                           help="tokens per block (lm), source limit (summarize) or text limit (classify)")
    max_steps: int = setting(600, low=1, metavar="N", step=100, title="Max steps", help="optimizer steps to train")
    # a time budget: above 0, Studio times this machine and sets the steps to fit
    minutes: float = setting(0.0, low=0, above=True, high=MAX_MINUTES, words=((0.0, "off"),), metavar="M",
                             hint="a week at most; leave it out to count steps", help="a time budget instead of --max-steps: Studio times a few steps on this "
                             "machine and sets the steps, evaluations and checkpoints to end within M minutes")
    # 0: auto, the largest that fits in the device's memory (searched when the run starts)
    batch_size: int = setting(16, low=1, words=((0, "auto"),), hint="or auto, to find the largest that fits",
                              metavar="N|auto", title="Batch size", help="rows per step; auto finds the largest that "
                              "fits in the GPU's memory when the run starts")
    grad_accum: int = setting(1, low=1, metavar="N", title="Gradient accumulation",
                              help="gradient accumulation steps: steps of gradients summed per update")
    lr: float = setting(1e-3, low=0, high=1, above=True, below=True, hint="a learning rate; 1e-5 to 1e-3 is usual",
                        metavar="X", step=1e-4, decimals=6, title="Learning rate",
                        help="peak learning rate (cosine schedule)")
    warmup: float = setting(0.05, low=0, high=1, below=True, hint="a fraction of the steps", flag_shown=False)
    weight_decay: float = setting(0.01, low=0, high=1, below=True, flag_shown=False)
    eval_every: int = setting(100, low=1, metavar="N", step=50, title="Evaluate every",
                              help="steps between validation passes")
    save_every: int = setting(200, low=1, metavar="N", step=50, title="Checkpoint every",
                              help="steps between checkpoints")
    # above 0: stop after this many evaluations without a lower validation loss, keep the best
    early_stopping: int = setting(0, low=0, high=1000, metavar="N", words=((0, "Off"),), suffix=" evaluations",
                                  hint="a number of evaluations, 3 is usual; 0 for none", title="Early stopping",
                                  help="stop when the validation loss has not gone down for N evaluations in a row; "
                                       "the exported model is then the best checkpoint, not the last")
    keep_checkpoints: int = setting(3, low=1, flag_shown=False)
    log_every: int = setting(10, low=1, flag_shown=False)
    validation_fraction: float = setting(0.05, low=0, high=0.5, above=True, below=True, metavar="X",
                                         help="share of rows held out (0.05)")
    eval_rows: int = setting(256, low=1, flag_shown=False)  # cap on validation rows; generation for ROUGE is slow
    # "auto": a fine-tune whose borrowed tokenizer spells the data out gets the data's frequent words as tokens
    new_words: str = setting("auto", choices=("auto", "off"), title="New words as tokens",
                             help="auto: when a classifier is fine-tuned from a model whose tokenizer cuts your text "
                                  "into pieces under 2 characters, your data's frequent words it cuts into 3 or more "
                                  "become tokens of their own, each starting as the mean of its pieces; off: the "
                                  "tokenizer as it is")
    seed: int = setting(42, low=0, high=2**31 - 1, metavar="N", title="Seed",
                        help="same seed, same data order and initial weights")
    device: str = setting("auto", metavar="D", help="auto, cuda, mps or cpu")
    precision: str = setting("auto", choices=PRECISIONS, title="Precision",
                             help="auto: bf16 or fp16 on a GPU, fp32 elsewhere")
    trust_remote_code: bool = setting(False, help="allow a hub model to run its own code (only for authors you trust)")
    # recorded as attention at each evaluation; empty: none
    probe_text: str = setting("", metavar="TEXT", title="Attention probe",
                              placeholder="optional, e.g. def add(a, b): return a + b",
                              help="record this text's attention at every evaluation, to watch heads form in the "
                                   "Attention panel")
    # answered at each evaluation by a run whose models write text; empty: the task picks from the validation rows
    sample_prompts: str = setting("", metavar="FILE", title="Sample prompts",
                                  placeholder="optional: a file of prompts, one per line (default: 4 from the data)",
                                  help="answer these prompts (a file, one per line) at every evaluation and keep the "
                                       "answers, to watch them change; default: four from the validation data")
    # train low-rank adapters (peft) instead of every weight; the base stays frozen
    lora: bool = setting(False, help="train small low-rank adapters (LoRA) on a trained model instead of all its "
                         "weights: far less memory; exports the merged model and the adapter")
    lora_r: int = setting(8, low=1, high=1024, metavar="N", hint="4 to 64 is usual", help="the adapters' rank (8)")
    lora_alpha: float = setting(16.0, low=0, high=4096, above=True, metavar="A", hint="usually twice the rank",
                                help="their scale is A / rank (16)")
    lora_dropout: float = setting(0.05, low=0, high=1, below=True, metavar="P",
                                  help="dropout on the adapters' input (0.05)")
    # comma-separated layer names, "all-linear", or empty: peft's choice for the family
    lora_targets: str = setting("", metavar="M,...", help="the layers to adapt, by name (c_attn, query, q_proj, ...) "
                                "or all-linear; default: the usual choice for the model family")
    # LoRA on a base loaded in 4 bits (bitsandbytes, CUDA only); implies lora
    qlora: bool = setting(False, help="LoRA on a base loaded in 4 bits (bitsandbytes; needs a CUDA GPU): about a "
                          "quarter of the memory for the frozen weights")
    # torch.compile the model: a slow first step, faster steps after (mostly on a GPU)
    compile: bool = setting(False, help="compile the model with torch.compile: the first steps wait for the "
                            "compiler, the rest run faster (mostly on a GPU)")
    # keep only each layer's input and recompute the rest: less memory, slower
    gradient_checkpointing: bool = setting(
        False, title="Recompute activations (gradient checkpointing)",
        help="keep only each layer's input during the forward pass and recompute the rest for the backward pass: "
             "much less memory for activations, about a third slower")
    # above 1: one process per GPU (or CPU processes), started by accelerate's launcher
    num_processes: int = setting(1, low=1, high=MAX_PROCESSES, metavar="N", hint="one per GPU is usual",
                                 help="train in N processes, one per GPU (data parallel, through accelerate's "
                                      "launcher); on a machine without GPUs, N CPU processes")
    # shard weights, gradients and optimizer state across the GPUs instead of copying them
    fsdp: bool = setting(False, help="shard the weights, gradients and optimizer state across the GPUs (FSDP) "
                         "instead of keeping a copy on each: for models too big for one GPU")
    # an accelerate config file (several machines); its settings rule the launch
    accelerate_config: str = setting("", metavar="FILE", help="an accelerate config file (from 'accelerate config'): "
                                     "several machines, or any launch setting; it overrides --num-processes' defaults")
    columns: dict[str, str] = field(default_factory=dict)  # role -> column; a missing role is guessed
    options: dict[str, Any] = field(default_factory=dict)  # the task's own settings, by name

    @classmethod
    def for_task(cls, task: str) -> RunConfig:
        """The defaults of a run of `task`: RunConfig's own, with the task's settings and recipe over them."""
        found = registry.get(task)
        return from_dict(dict(found.recipe), cls(task=task, options=_defaults(found)))

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
        """Fill in the defaults that depend on the task (data, model, its own settings)."""
        out = copy.deepcopy(self)
        task = registry.get(out.task)
        out.data = out.data or task.default_data
        out.model = out.model or task.default_preset
        out.lora = out.lora or out.qlora
        out.options = {**_defaults(task), **{k: v for k, v in out.options.items() if k in _defaults(task)}}
        out.columns = {c.role: out.columns[c.role] for c in task.columns if out.columns.get(c.role)}
        return out

    def task_config(self) -> TaskConfig:
        """What the task reads of these settings."""
        return TaskConfig(self.seq_len, {**_defaults(registry.get(self.task)), **self.options}, self.seed)

    def get(self, name: str) -> Any:
        """Any setting by its TOML name: a field, a `<role>_column` or one of the task's options."""
        if name in _COMMON:
            return getattr(self, name)
        if name.endswith("_column"):
            return self.columns.get(name.removesuffix("_column"), "")
        return self.task_config().values.get(name)

    def as_dict(self) -> dict[str, Any]:
        """The settings as the flat table config.toml holds: the fields, then the task's columns and options."""
        out = {name: getattr(self, name) for name in _COMMON}
        task = registry.find(self.task)
        for column in task.columns if task else ():
            out[column.field] = self.columns.get(column.role, "")
        out.update(self.task_config().values if task else self.options)
        return out


COMMON: tuple[Setting, ...] = tuple(Setting(f.name, f.type, f.default, **f.metadata[_SPEC])
                                    for f in fields(RunConfig) if _SPEC in f.metadata)
_COMMON = {s.name: s for s in COMMON}


def common(name: str) -> Setting:
    """The declaration of one of the settings every run has."""
    return _COMMON[name]


def _defaults(task: Task) -> dict[str, Any]:
    return {s.name: s.default for s in task.settings}


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
    if c.lora and c.model in PRESETS:
        raise ConfigError(f"LoRA adapts a model that has already learned; {c.model} starts from random weights, so "
                          "train it fully (drop --lora), or pass a finished run or a hub model as --model.")
    for declared in COMMON:
        declared.check(getattr(c, declared.name))
    for declared in task.settings:
        declared.check(c.options[declared.name])
    task.check_settings(c.task_config())
    if len(c.probe_text) > MAX_PROBE_CHARS:
        raise ConfigError(f"The attention probe text is {len(c.probe_text):,} characters; keep it under "
                          f"{MAX_PROBE_CHARS} (only its first 64 tokens are recorded).")
    _check_processes(c)
    _check_early_stopping(c)
    if c.sample_prompts:
        if not task.writes_text:
            raise ConfigError(f"--sample-prompts is for tasks whose models write text; {task.title.lower()} models "
                              "do not.")
        read_prompts(c.sample_prompts)
    if c.device.split(":")[0] not in DEVICES:
        raise ConfigError(f"Unknown device '{c.device}'; choose one of {', '.join(DEVICES)}.")
    return c


def _check_early_stopping(c: RunConfig) -> None:
    if not c.early_stopping:
        return
    if c.minutes:
        raise ConfigError("--early-stopping and --minutes both decide when a run ends; give one of them.")
    if c.save_every % c.eval_every:
        raise ConfigError(f"--early-stopping keeps the best checkpoint, so checkpoints must fall on evaluations: "
                          f"make --save-every ({c.save_every}) a multiple of --eval-every ({c.eval_every}).")


def _check_processes(c: RunConfig) -> None:
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


def known_names() -> list[str]:
    """Every name a config file or the command line may set: the fields, every column role, every task's
    own settings."""
    return sorted({*_COMMON, *(c.field for c in registry.column_roles()),
                   *(s.name for s, _ in registry.task_settings())})


def from_dict(values: dict[str, Any], base: RunConfig | None = None, origin: str = "the config") -> RunConfig:
    """Apply `values` over `base`, checking names and types so a typo is an error, not a silent default.

    A column or setting of another task than the run's is taken and left unused, as a file written for
    several tasks may hold them."""
    config = copy.deepcopy(base) if base else RunConfig()
    if "task" in values:
        task_name = _COMMON["task"].coerce(values["task"], origin)
        if task_name != config.task:
            config = dataclasses.replace(config, task=task_name, columns={}, options={})
    task = registry.get(config.task)
    roles = {c.field: c.role for c in task.columns}
    own = {s.name: s for s in task.settings}
    others = {c.field for c in registry.column_roles()} | {s.name for s, _ in registry.task_settings()}
    for key, value in values.items():
        name = key.replace("-", "_")
        if name == "task":
            continue
        if name in _COMMON:
            setattr(config, name, _COMMON[name].coerce(value, origin))
        elif name in roles:
            config.columns[roles[name]] = str(value)
            if not value:  # "" is how a file says "guess it": the same as leaving it out
                del config.columns[roles[name]]
        elif name in own:
            config.options[name] = own[name].coerce(value, origin)
        elif name not in others:
            raise ConfigError(f"{origin} has an unknown setting '{key}'; known settings are "
                              f"{', '.join(known_names())}.")
    return config


def load(path: Path, base: RunConfig | None = None) -> RunConfig:
    return from_dict(read_values(path), base, origin=f"'{path.name}'")


def load_saved(path: Path) -> RunConfig:
    """A run's own saved config: a setting its Studio did not have yet takes the value the run trained with."""
    values = read_values(path)
    config = from_dict(values, origin=f"'{path.name}'")
    for declared in registry.get(config.task).settings:
        if declared.name not in values and declared.saved_before is not None:
            config.options[declared.name] = declared.saved_before
    return config


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
    from studio.core.runs import layout, reader

    base = reader.read(run_dir, with_history=False).base
    if base is None:
        raise ConfigError(f"'{run_dir.name}' did not start from another run, so there is nothing to compare it with "
                          "from scratch.")
    base_config = load(Path(base["path"]) / layout.CONFIG_FILE)
    if base_config.model not in PRESETS:
        raise ConfigError(f"The run '{base['run']}' started from '{base_config.model}', not from a preset, so there "
                          "is no untrained twin to build; compare with a run you start yourself.")
    config = load(run_dir / layout.CONFIG_FILE)
    return dataclasses.replace(config, model=base_config.model, tokenizer=str(Path(base["path"]) / layout.TOKENIZER),
                               lora=False)  # adapters on random weights would learn nothing to compare


def dumps(config: RunConfig) -> str:
    import tomli_w

    return tomli_w.dumps({"run": config.as_dict()})


def command_line(c: RunConfig) -> str:
    """The `studio train` command for `c`, with only the flags that differ from the defaults."""
    default = RunConfig.for_task(c.task).resolved()
    flags = ["studio", "train", "--task", c.task, "--data", c.data, "--model", c.model]
    left_out = {"task", "data", "model"}
    if c.minutes:
        left_out |= {"max_steps", "eval_every", "save_every"}  # a budget plans these itself
    if c.qlora:
        left_out.add("lora")  # --qlora says it
    if not c.lora:
        left_out |= {"lora_r", "lora_alpha", "lora_dropout", "lora_targets"}  # they mean nothing without --lora
    task = registry.get(c.task)
    for column in task.columns:
        if c.columns.get(column.role):
            flags += [column.flag, c.columns[column.role]]
    declared = [(s, getattr(c, s.name), getattr(default, s.name)) for s in COMMON
                if s.flag_shown and s.name not in left_out]
    declared += [(s, c.task_config()[s.name], default.task_config()[s.name]) for s in task.settings]
    for spec, value, usual in declared:
        if value in ("", None) or value == usual:
            continue
        flags += [spec.flag] + ([] if isinstance(value, bool) else [spec.shown(value)])
    return shlex.join(flags)
