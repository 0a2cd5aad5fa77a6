"""Will it fit? Memory to run and to train a model on this machine's device, from its config alone (a few KB,
read before any weight downloads), and when training would not fit, the setting that would make it."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from studio.core.modeling import loading
from studio.core.modeling.estimate import estimate, running_bytes
from studio.core.system import device as devices
from studio.core.system import sizes
from studio.core.tasks import registry
from studio.core.training import batch_finder
from studio.core.training.config import RunConfig
from studio.core.training.sizing import training_size

# What a device can give a job: the rest is the system's, the framework's and fragmentation's
USABLE = 0.9
_SHORTEST = 64


@dataclass(frozen=True)
class Fit:
    parameters: int
    trainable: int  # the parameters that learn: all, or under LoRA the adapters and the head
    run_bytes: int
    train_bytes: int
    device: str  # as a person reads it: "cpu", "cuda:0 (NVIDIA H200)"
    device_bytes: int
    precision: str
    advice: str  # "" when training fits; else what would make it fit, or that nothing here would
    remedied: bool = False  # the advice names settings that make training fit

    @property
    def runs(self) -> bool:
        return self.run_bytes <= self.device_bytes * USABLE

    @property
    def trains(self) -> bool:
        return self.train_bytes <= self.device_bytes * USABLE

    def as_json(self) -> dict[str, Any]:
        return {"run_bytes": self.run_bytes, "train_bytes": self.train_bytes, "device": self.device}

    def summary(self) -> str:
        """Two sentences: the size, and memory to run and to train against what the device has."""
        learning = ("" if self.trainable >= self.parameters else
                    f", of which {self.trainable / 1e6:,.3f} M train ({self.trainable / self.parameters:.2%}, LoRA)")
        head = (f"{self.parameters / 1e6:,.1f} M parameters{learning}; about {sizes.text(self.run_bytes)} to run and "
                f"{sizes.text(self.train_bytes)} to train ({self.precision}) on {self.device}, which has "
                f"{sizes.text(self.device_bytes)}.")
        if not self.runs and not self.remedied:
            return (f"{head} It does not fit here even to run: choose a smaller model, or a GGUF quantization "
                    "run by llama.cpp.")
        return f"{head} {self.advice}" if self.advice else head


# (how a person reads the change, its flag, the change) in the order they cost the least of what is learned
_Change = tuple[str, str, Callable[[RunConfig], RunConfig | None]]


def _changes(device: str) -> list[_Change]:
    def on(name: str) -> Callable[[RunConfig], RunConfig | None]:
        return lambda c: None if getattr(c, name) else dataclasses.replace(c, **{name: True})

    def shorter(c: RunConfig) -> RunConfig | None:
        return dataclasses.replace(c, seq_len=c.seq_len // 2) if c.seq_len // 2 >= _SHORTEST else None

    def smaller(c: RunConfig) -> RunConfig | None:
        return dataclasses.replace(c, batch_size=c.batch_size // 2) if c.batch_size > 1 else None

    out: list[_Change] = [("gradient checkpointing", "--gradient-checkpointing", on("gradient_checkpointing")),
                          ("LoRA", "--lora", on("lora"))]
    if device.startswith("cuda"):
        out.append(("QLoRA", "--qlora", lambda c: None if c.qlora else dataclasses.replace(c, lora=True, qlora=True)))
    out += [("a shorter sequence", "--seq-len", shorter), ("a smaller batch", "--batch-size", smaller)]
    return out


def check(config: Any, c: RunConfig, device: str | None = None) -> Fit:
    """Memory to run and to train `c`'s task on a model of `config` (a transformers config) on `device` (this
    machine's own by default), with `c`'s precision, batch, sequence length and memory settings."""
    device = device or devices.pick_device(c.device)
    precision = devices.pick_precision(device, c.precision)
    task = registry.get(c.task)
    config = copy.deepcopy(config)
    for name, value in task.model_settings_for_estimate().items():
        setattr(config, name, value)
    c = dataclasses.replace(c, batch_size=batch_finder.planned(c.batch_size, device), lora=c.lora or c.qlora)
    base = estimate(config, task.model_class(c.task_config()), 1, c.seq_len, precision)
    total = devices.memory_total(device)

    def needs(candidate: RunConfig) -> int:
        return training_size(candidate, task, config, candidate.batch_size, precision).training_bytes

    size = training_size(c, task, config, c.batch_size, precision)
    fit = Fit(parameters=base.parameters, trainable=size.trainable,
              run_bytes=running_bytes(config, base.parameters, c.seq_len, precision),
              train_bytes=size.training_bytes, device=devices.describe(device), device_bytes=total,
              precision=precision, advice="")
    if fit.trains:
        return fit
    advice, remedied = _advice(c, size.training_bytes, total, device, needs)
    return dataclasses.replace(fit, advice=advice, remedied=remedied)


def _advice(c: RunConfig, train: int, total: int, device: str,
            needs: Callable[[RunConfig], int]) -> tuple[str, bool]:
    over = (f"Training needs about {sizes.text(train)}, more than the {sizes.text(total * USABLE)} this "
            f"device can give")
    for title, flag, change in _changes(device):  # one change that is enough, the cheapest first
        changed = change(c)
        need = needs(changed) if changed is not None else None
        if need is not None and need <= total * USABLE:
            return f"{over}; with {_named(title, flag, changed)} it needs about {sizes.text(need)}.", True
    said: list[str] = []
    need = train
    for title, flag, change in _changes(device):  # else all of them, each as far as it goes (a switch once)
        changed = change(c)
        while changed is not None:
            c, need = changed, needs(changed)
            if need <= total * USABLE:
                said.append(_named(title, flag, c))
                return f"{over}; with {', '.join(said)} it needs about {sizes.text(need)}.", True
            changed = change(c)
        said.append(_named(title, flag, c))
    return ((f"{over}, even with {', '.join(said)} (about {sizes.text(need)}); choose a smaller model or "
            "a machine with more memory."), False)


def _named(title: str, flag: str, c: RunConfig) -> str:
    if flag == "--seq-len":
        return f"a sequence length of {c.seq_len} (--seq-len {c.seq_len})"
    if flag == "--batch-size":
        return f"a batch of {c.batch_size} (--batch-size {c.batch_size})"
    return f"{title} ({flag})"


def of_config_json(values: dict[str, Any], name: str, task: str | None = None,
                   base: RunConfig | None = None) -> tuple[Fit, str]:
    """`check` for a model known by its config.json alone (read from the Hub), for `task` or the task its
    architecture names; the fit and the task's name."""
    config = loading.config_from_dict(values, name)
    chosen = registry.get(task) if task else registry.for_model(config)
    c = base if base is not None and base.task == chosen.name else RunConfig.for_task(chosen.name)
    return check(config, dataclasses.replace(c, model=name)), chosen.name
