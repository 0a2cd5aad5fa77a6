"""The size of the model a run would train and the memory it would take, known before any weight loads."""

from __future__ import annotations

from typing import Any

from studio.core.modeling import loading, presets
from studio.core.modeling.estimate import SizeEstimate, estimate
from studio.core.runs import layout
from studio.core.tasks.base import Task
from studio.core.training.config import RunConfig


def config_of(c: RunConfig) -> Any:
    """The config of `c`'s model: a preset sized for its vocabulary, or a run, folder or hub model by its config
    alone (`fit.check` gives it the task's head)."""
    if presets.is_preset(c.model):
        return presets.sized_config(c.model, c.vocab_size)
    return loading.load_config(layout.model_source(c.model), trust_remote_code=c.trust_remote_code)


def training_size(c: RunConfig, task: Task, config: Any, batch_size: int, precision: str) -> SizeEstimate:
    """The estimate for `c`'s settings on a model of `config`: its lengths, adapters, memory options, and what
    the task's steps hold (a preference pair's two answers, DPO's reference)."""
    source, target = task.length_limits(c.task_config())
    return estimate(config, task.model_class(c.task_config()), batch_size, source, precision, target, adapters=c.adapters(),
                    checkpointing=c.gradient_checkpointing, quantized=c.qlora,
                    **task.memory_shape(c.task_config(), c.lora))
