"""Loading local model folders and hub ids, with the errors people hit turned into sentences."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio.core.errors import ModelError, first_line
from studio.core.hub import reach as hub
from studio.core.modeling import lora

if TYPE_CHECKING:
    from transformers import PretrainedConfig, PreTrainedModel

# transformers resolves model classes through lazy module imports, and from_pretrained builds on the
# meta device through process-wide state; neither is safe from two threads at once (the window loads
# two models side by side, and estimates sizes in the background while it may also be training).
BUILD_LOCK = threading.RLock()

# transformers 5 copies checkpoint tensors out of memory-mapped safetensors files with a pool of loader
# threads. With a generation running on another thread (the Playground switching models mid-answer) the
# suite once died of a segmentation fault inside those threads (`_materialize_copy`). Our models load in
# a background job already, so loading them sequentially costs the window nothing and removes the race.
os.environ.setdefault("HF_DEACTIVATE_ASYNC_LOAD", "1")
_PRESET_HINT = "a preset such as gpt-tiny or bert-tiny"


def auto_class(name: str) -> Any:
    """A transformers auto class by name (AutoModelForCausalLM, ...), imported on first use."""
    import transformers

    return getattr(transformers, name)


def is_local_model(path: str | os.PathLike) -> bool:
    return Path(path).expanduser().is_dir()


def load_config(name: str, *, trust_remote_code: bool = False) -> PretrainedConfig:
    """The config of a local folder or hub id."""
    from transformers import AutoConfig

    local = Path(name).expanduser()
    if lora.is_adapter(local) and not (local / "config.json").is_file():
        return load_config(lora.adapter_base(local), trust_remote_code=trust_remote_code)
    if local.exists():
        if not local.is_dir() or not (local / "config.json").is_file():
            raise ModelError(f"'{name}' is not a model folder (it has no config.json); pick a folder written "
                             f"by save_pretrained, such as a run's model/ folder, or {_PRESET_HINT}.")
        source = str(local)
    else:
        if _looks_like_path(name):
            raise ModelError(f"'{name}' does not exist; check the path, or use {_PRESET_HINT}.")
        source = name
    try:
        return AutoConfig.from_pretrained(source, trust_remote_code=trust_remote_code, **_hub(name))
    except Exception as exc:  # noqa: BLE001 - hub, network and parsing failures all end here
        raise _load_error(name, local.exists(), exc) from exc


def config_from_dict(values: dict[str, Any], name: str) -> PretrainedConfig:
    """A config.json's contents (read from the Hub before anything downloads) as transformers' config."""
    from transformers import AutoConfig

    model_type = values.get("model_type")
    try:
        return AutoConfig.for_model(model_type, **{k: v for k, v in values.items() if k != "model_type"})
    except (ValueError, KeyError, TypeError) as exc:
        if not model_type:
            raise ModelError(f"{name}'s config.json names no model_type, so Studio cannot tell what it is.") from None
        raise ModelError(f"{name} is a '{model_type}' model, which this transformers does not know "
                         f"({first_line(exc)}); upgrade transformers, or choose another model.") from None


def is_hub_id(name: str) -> bool:
    """Whether `name` can only be a model on the Hub: not a path here, nor written as one."""
    return bool(name) and not Path(name).expanduser().exists() and not _looks_like_path(name)


def _looks_like_path(name: str) -> bool:
    """Hub ids are 'name' or 'owner/name'; anything else a person types is meant as a folder."""
    return name.startswith((".", "/", "~")) or name.count("/") > 1 or (os.sep != "/" and os.sep in name)


def _load_error(name: str, local: bool, exc: Exception) -> ModelError:
    text = str(exc)
    if local:
        return ModelError(f"Could not load the model in '{name}' ({first_line(exc)}); the folder may be "
                          "damaged or from a newer transformers.")
    if "trust_remote_code" in text:
        return ModelError(f"'{name}' runs its own code from the hub; allow that only if you trust its "
                          "author, with --trust-remote-code.")
    if not hub.reachable():
        return ModelError(f"Could not download '{name}': there is no network and it is not in the local "
                          f"cache. Connect to the internet, or pass a local model folder or {_PRESET_HINT}.")
    return ModelError(f"'{name}' is neither a preset, a model folder nor a model on the Hugging Face Hub "
                      f"({first_line(exc)}); check the name.")


def _hub(name: str) -> dict[str, bool]:
    return {} if is_local_model(name) else hub.load_kwargs()


def load_pretrained(name: str, auto: str, *, trust_remote_code: bool = False, attn_implementation: str | None = None,
                    dtype: Any = None, keep_adapter: bool = False, quantization: Any = None, device: str | None = None,
                    **config: Any) -> tuple[PreTrainedModel, list[str]]:
    """Load a local folder or hub id as `auto` (an auto class name); returns the model and the names of the
    weights it had to start fresh (a new head), empty when everything came from the checkpoint.

    `config` overrides settings of the saved config (a classifier's labels); a head whose shape no longer
    fits them is started fresh. A LoRA adapter folder loads its base with the adapter applied: merged into
    the weights, or kept apart (`keep_adapter`) to look at or switch off. A `quantization` config (QLoRA's
    4-bit base) loads the weights straight onto `device`.
    """
    if lora.is_adapter(name):
        base, fresh = load_pretrained(lora.adapter_base(name), auto, trust_remote_code=trust_remote_code,
                                      attn_implementation=attn_implementation, dtype=dtype,
                                      **{**lora.head_settings(name, auto), **config})
        with BUILD_LOCK:
            adapted = lora.load_adapter(base, name)
        return (adapted if keep_adapter else adapted.merge_and_unload()), fresh
    kwargs: dict[str, Any] = {"trust_remote_code": trust_remote_code, "output_loading_info": True, **config}
    if attn_implementation:
        kwargs["attn_implementation"] = attn_implementation
    if dtype is not None:
        kwargs["dtype"] = dtype
    if quantization is not None:
        kwargs.update(quantization_config=quantization, device_map={"": device})
    if config:
        kwargs["ignore_mismatched_sizes"] = True
    source = str(Path(name).expanduser()) if is_local_model(name) else name
    try:
        with BUILD_LOCK:
            model, info = auto_class(auto).from_pretrained(source, **kwargs, **_hub(name))
    except Exception as exc:  # noqa: BLE001
        raise _load_error(name, is_local_model(name), exc) from exc
    fresh = sorted(set(info.get("missing_keys", ())) | {key[0] for key in info.get("mismatched_keys", ())})
    return model, fresh


def max_positions(config: PretrainedConfig) -> int | None:
    """The longest input the model's position embeddings allow; None for relative positions (T5)."""
    for name in ("n_positions", "max_position_embeddings"):
        value = getattr(config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    return None
