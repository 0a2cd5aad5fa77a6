"""LoRA through peft: which layers get adapters, wrapping a model, loading an adapter, and the two exports.

peft does the work (adapters, the default target layers per model family, merging); this module turns its
failures into sentences and keeps the run folder's layout: `model/` holds the merged model that plain
transformers loads, `adapter/` the adapter alone, which peft applies to the base it names.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio.core.errors import ConfigError, ModelError

if TYPE_CHECKING:
    from transformers import PreTrainedModel

ADAPTER_CONFIG = "adapter_config.json"
ALL_LINEAR = "all-linear"  # peft's own word for every linear layer but the output head


@contextlib.contextmanager
def _peft_quietly() -> Iterator[None]:
    """peft asks models for `is_gradient_checkpointing`, which transformers 5 answers with a deprecation
    warning on stderr at every wrap; it says nothing a person can act on."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        yield


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


def save_model_config(model: Any, folder: str | Path) -> None:
    """Write the adapted model's config (its class and a head's labels) beside an adapter: peft saves only
    the adapter's, and a classifier's head cannot be rebuilt from the base's config."""
    base = model.get_base_model()
    base.config.architectures = [type(base).__name__]
    base.config.save_pretrained(str(folder))


def _saved_config(folder: str | Path) -> dict[str, Any]:
    """The adapted model's config written beside an adapter (see `save_model_config`); empty when absent."""
    try:
        return json.loads((Path(folder).expanduser() / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def vocabulary_size(folder: str | Path) -> int | None:
    """The vocabulary the adapted model had: larger than its base's when training added tokens, which the
    base must grow by before the adapter fits it."""
    config = _saved_config(folder)
    size = config.get("vocab_size") or config.get("text_config", {}).get("vocab_size")
    return size if isinstance(size, int) else None


def head_settings(folder: str | Path, auto: str) -> dict[str, Any]:
    """The labels saved beside an adapter (see `save_model_config`) when it was trained with the head that
    `auto` (an auto class name) builds; empty otherwise (every config carries two placeholder labels)."""
    config = _saved_config(folder)
    head = auto.removeprefix("AutoModel")  # AutoModelForSequenceClassification -> ForSequenceClassification
    if not (config.get("id2label") and config.get("architectures", [""])[0].endswith(head)):
        return {}
    return {"id2label": {int(k): v for k, v in config["id2label"].items()}, "label2id": config["label2id"]}


def linear_layer_names(model: Any) -> list[str]:
    """The names (last part) of a model's linear layers: what --lora-targets may list."""
    import torch
    from transformers.pytorch_utils import Conv1D

    return sorted({name.rsplit(".", 1)[-1] for name, module in model.named_modules()
                   if isinstance(module, (torch.nn.Linear, Conv1D)) and name})


def check_targets(model: Any, target_text: str) -> None:
    """A sentence when --lora-targets names a layer the model lacks. `model` may be one built on the meta device
    (no weights), so this runs before any data or weights are read."""
    chosen = targets(target_text)
    known = linear_layer_names(model)
    if isinstance(chosen, list) and (missing := [t for t in chosen if t not in known]):
        raise ConfigError(f"{model.config.model_type} has no linear layer called {', '.join(missing)}; its linear "
                          f"layers are {', '.join(known)} (or use --lora-targets {ALL_LINEAR}).")


def targets(text: str) -> list[str] | str | None:
    """--lora-targets as peft takes it: None (peft's choice for the family), "all-linear", or names."""
    names = [t.strip() for t in text.split(",") if t.strip()]
    if not names:
        return None
    return ALL_LINEAR if names == [ALL_LINEAR] else names


# peft's default layers leave out some families people bring; for them, the layers peft would pick in
# their shape (its choice is the query and value projections; Phi-3 fuses q, k and v into one)
_TARGETS_PEFT_LACKS = {"phi3": ["qkv_proj"]}


def wrap(model: PreTrainedModel, *, r: int, alpha: float, dropout: float, target_text: str,
         task_type: str | None, fresh: list[str] | tuple[str, ...] = (), new_tokens: list[int] | None = None) -> Any:
    """`model` with LoRA adapters on its target layers. The task's head stays fully trainable: peft keeps the
    heads it knows for `task_type`, and the modules of `fresh` (weights the checkpoint lacked) are kept too,
    since a head that starts from random values must learn whole. So do the embeddings of `new_tokens`
    (a chat template's markers the vocabulary lacked): frozen, they would stay the random rows they began as."""
    from peft import LoraConfig, get_peft_model

    chosen = targets(target_text) or _TARGETS_PEFT_LACKS.get(model.config.model_type)
    check_targets(model, target_text)
    heads = sorted({name.rsplit(".", 1)[0] for name in fresh if "." in name}) or None
    config = LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=chosen, task_type=task_type,
                        modules_to_save=heads, trainable_token_indices=new_tokens or None,
                        fan_in_fan_out=model.config.model_type == "gpt2")  # GPT-2 stores its linears transposed
    try:
        with _peft_quietly():
            return get_peft_model(model, config)
    except ValueError as exc:
        if "target_modules" not in str(exc):
            raise
        raise ConfigError(f"Studio does not know which layers of a {model.config.model_type} model to adapt; "
                          f"name them with --lora-targets, from its linear layers: "
                          f"{', '.join(linear_layer_names(model))} (or "
                          f"{ALL_LINEAR}).") from None


def check_quantized(device: str) -> None:
    """Raise `ConfigError` unless a 4-bit base (QLoRA) can load here: bitsandbytes on a CUDA GPU."""
    if not device.startswith("cuda"):
        raise ConfigError(f"QLoRA loads the base model in 4 bits through bitsandbytes, which needs a CUDA GPU; this "
                          f"run would train on {device}. Use --lora: the same adapters on a full-precision base.")
    if importlib.util.find_spec("bitsandbytes") is None:
        raise ConfigError("QLoRA needs the bitsandbytes package, which is not installed; install it (pip install "
                          "bitsandbytes) or use --lora.")


def quantization() -> Any:
    """The QLoRA paper's recipe: 4-bit NormalFloat weights, quantized twice, computing in bf16."""
    import torch
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                              bnb_4bit_compute_dtype=torch.bfloat16)


def prepare_quantized(model: PreTrainedModel, checkpointing: bool) -> PreTrainedModel:
    """A 4-bit base made ready for adapters (peft casts norms to fp32 and lets inputs carry gradients)."""
    from peft import prepare_model_for_kbit_training

    return prepare_model_for_kbit_training(model, use_gradient_checkpointing=checkpointing,
                                           gradient_checkpointing_kwargs={"use_reentrant": False})


def load_adapter(base: PreTrainedModel, adapter_dir: str | Path) -> Any:
    """`base` with the adapter in `adapter_dir` applied, unmerged (so it can be switched off or compared)."""
    from peft import PeftModel

    size = vocabulary_size(adapter_dir)
    if size and size > base.get_input_embeddings().num_embeddings:
        base.resize_token_embeddings(size, mean_resizing=False)  # the adapter holds the grown rows' values
    with _peft_quietly():
        return PeftModel.from_pretrained(base, str(Path(adapter_dir).expanduser()))


def export(model: Any, model_dir: Path, adapter_dir: Path, reload_as: str | None = None) -> None:
    """Save the adapter alone to `adapter_dir`, then the merged model to `model_dir`. Merging changes the
    weights in place, so the adapter is written first. A 4-bit base would merge into rounded weights, so with
    `reload_as` (an auto class name) the base is loaded again in full precision and the adapter merged there."""
    model.save_pretrained(str(adapter_dir))
    save_model_config(model, adapter_dir)
    if reload_as is None:
        merged = model.merge_and_unload()
    else:
        from studio.core.modeling.loading import load_pretrained  # loading imports this module

        merged, _ = load_pretrained(str(adapter_dir), reload_as)
    merged.save_pretrained(str(model_dir))


def parameter_counts(model: Any) -> tuple[int, int]:
    """(all parameters, trainable ones) of a model, adapters included."""
    total = trainable = 0
    for p in model.parameters():
        total += p.numel()
        trainable += p.numel() if p.requires_grad else 0
    return total, trainable
