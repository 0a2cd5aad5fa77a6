"""LoRA through peft: which layers get adapters, wrapping a model, loading an adapter, and the two exports.

peft does the work (adapters, the default target layers per model family, merging); this module turns its
failures into sentences and keeps the run folder's layout: `model/` holds the merged model that plain
transformers loads, `adapter/` the adapter alone, which peft applies to the base it names.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio.core.errors import ConfigError, ModelError

if TYPE_CHECKING:
    from transformers import PreTrainedModel

ADAPTER_CONFIG = "adapter_config.json"
ALL_LINEAR = "all-linear"  # peft's own word for every linear layer but the output head


def is_adapter(path: str | Path) -> bool:
    """A folder that holds a peft adapter (a LoRA run's adapter/ or one of its checkpoints)."""
    return (Path(path).expanduser() / ADAPTER_CONFIG).is_file()


def adapter_base(path: str | Path) -> str:
    """The model an adapter folder was trained on, as its config names it (a folder or a hub id)."""
    try:
        config = json.loads((Path(path).expanduser() / ADAPTER_CONFIG).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"The adapter in '{path}' cannot be read ({exc}); the folder may be damaged.") from None
    base = config.get("base_model_name_or_path")
    if not base:
        raise ModelError(f"The adapter in '{path}' does not say which model it adapts; load its base model and "
                         "the adapter in code, or train it again.")
    return str(base)


def linear_layer_names(model: Any) -> list[str]:
    """The names (last part) of a model's linear layers: what --lora-targets may list."""
    import torch
    from transformers.pytorch_utils import Conv1D

    return sorted({name.rsplit(".", 1)[-1] for name, module in model.named_modules()
                   if isinstance(module, (torch.nn.Linear, Conv1D)) and name})


def targets(text: str) -> list[str] | str | None:
    """--lora-targets as peft takes it: None (peft's choice for the family), "all-linear", or names."""
    names = [t.strip() for t in text.split(",") if t.strip()]
    if not names:
        return None
    return ALL_LINEAR if names == [ALL_LINEAR] else names


def wrap(model: PreTrainedModel, *, r: int, alpha: float, dropout: float, target_text: str,
         task_type: str | None, fresh: list[str] | tuple[str, ...] = ()) -> Any:
    """`model` with LoRA adapters on its target layers. The task's head stays fully trainable: peft keeps the
    heads it knows for `task_type`, and the modules of `fresh` (weights the checkpoint lacked) are kept too,
    since a head that starts from random values must learn whole."""
    from peft import LoraConfig, get_peft_model

    chosen = targets(target_text)
    known = linear_layer_names(model)
    if isinstance(chosen, list) and (missing := [t for t in chosen if t not in known]):
        raise ConfigError(f"{model.config.model_type} has no linear layer called {', '.join(missing)}; its linear "
                          f"layers are {', '.join(known)} (or use --lora-targets {ALL_LINEAR}).")
    heads = sorted({name.rsplit(".", 1)[0] for name in fresh if "." in name}) or None
    config = LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=chosen, task_type=task_type,
                        modules_to_save=heads,
                        fan_in_fan_out=model.config.model_type == "gpt2")  # GPT-2 stores its linears transposed
    try:
        return get_peft_model(model, config)
    except ValueError as exc:
        if "target_modules" not in str(exc):
            raise
        raise ConfigError(f"Studio does not know which layers of a {model.config.model_type} model to adapt; "
                          f"name them with --lora-targets, from its linear layers: {', '.join(known)} (or "
                          f"{ALL_LINEAR}).") from None


def load_adapter(base: PreTrainedModel, adapter_dir: str | Path) -> Any:
    """`base` with the adapter in `adapter_dir` applied, unmerged (so it can be switched off or compared)."""
    from peft import PeftModel

    return PeftModel.from_pretrained(base, str(Path(adapter_dir).expanduser()))


def export(model: Any, model_dir: Path, adapter_dir: Path) -> None:
    """Save the adapter alone to `adapter_dir`, then the merged model to `model_dir`. Merging changes the
    weights in place, so the adapter is written first."""
    model.save_pretrained(str(adapter_dir))
    model.merge_and_unload().save_pretrained(str(model_dir))


def parameter_counts(model: Any) -> tuple[int, int]:
    """(all parameters, trainable ones) of a model, adapters included."""
    total = trainable = 0
    for p in model.parameters():
        total += p.numel()
        trainable += p.numel() if p.requires_grad else 0
    return total, trainable
