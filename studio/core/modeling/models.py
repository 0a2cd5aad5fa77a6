"""Models: presets built from config, local checkpoint folders and hub ids, with size estimates."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio.core.system import hub
from studio.core.errors import ModelError, first_line

if TYPE_CHECKING:
    from transformers import PretrainedConfig, PreTrainedModel, PreTrainedTokenizerBase

TASKS = ("lm", "summarize")
# transformers resolves model classes through lazy module imports, and from_pretrained builds on the
# meta device through process-wide state; neither is safe from two threads at once (the window loads
# two models side by side, and estimates sizes in the background while it may also be training).
_BUILD_LOCK = threading.RLock()


@dataclass(frozen=True)
class Preset:
    task: str
    family: str  # "gpt2", "bart" or "t5"
    size: dict[str, int]
    description: str


PRESETS: dict[str, Preset] = {
    "gpt-tiny": Preset("lm", "gpt2", {"n_layer": 2, "n_head": 4, "n_embd": 128},
                       "GPT-2-style, 2 layers x 128 wide: learns in minutes on a CPU"),
    "gpt-small": Preset("lm", "gpt2", {"n_layer": 6, "n_head": 8, "n_embd": 512},
                        "GPT-2-style, 6 layers x 512 wide: wants a GPU"),
    "bart-tiny": Preset("summarize", "bart", {"layers": 2, "heads": 4, "d_model": 128},
                        "BART-style encoder-decoder, 2+2 layers x 128 wide"),
    "bart-small": Preset("summarize", "bart", {"layers": 6, "heads": 8, "d_model": 512},
                         "BART-style encoder-decoder, 6+6 layers x 512 wide: wants a GPU"),
    "t5-tiny": Preset("summarize", "t5", {"layers": 2, "heads": 4, "d_model": 128},
                      "T5-style encoder-decoder, 2+2 layers x 128 wide"),
}
MAX_POSITIONS = 1024


def is_preset(name: str) -> bool:
    return name in PRESETS


def preset_config(name: str, tokenizer: PreTrainedTokenizerBase) -> PretrainedConfig:
    """The config of a preset, sized to `tokenizer`, with every special token id a model needs set."""
    from transformers import BartConfig, GPT2Config, T5Config

    preset = PRESETS[name]
    ids = _special_ids(tokenizer)
    vocab = len(tokenizer)
    s = preset.size
    if preset.family == "gpt2":
        config = GPT2Config(vocab_size=vocab, n_positions=MAX_POSITIONS, **s, **ids)
    elif preset.family == "bart":
        d, layers, heads = s["d_model"], s["layers"], s["heads"]
        config = BartConfig(vocab_size=vocab, d_model=d, encoder_layers=layers, decoder_layers=layers,
                            encoder_attention_heads=heads, decoder_attention_heads=heads,
                            encoder_ffn_dim=4 * d, decoder_ffn_dim=4 * d, max_position_embeddings=MAX_POSITIONS,
                            decoder_start_token_id=ids["eos_token_id"], forced_eos_token_id=ids["eos_token_id"],
                            **ids)
    else:
        d, layers, heads = s["d_model"], s["layers"], s["heads"]
        config = T5Config(vocab_size=vocab, d_model=d, d_kv=d // heads, d_ff=4 * d, num_layers=layers,
                          num_heads=heads, decoder_start_token_id=ids["pad_token_id"], **ids)
    return config


def _special_ids(tokenizer: PreTrainedTokenizerBase) -> dict[str, int]:
    eos = tokenizer.eos_token_id
    bos = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else eos
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos
    if eos is None:
        raise ModelError("The tokenizer has no end-of-text token; train a tokenizer with Studio or use a "
                         "model's own tokenizer.")
    return {"bos_token_id": bos, "eos_token_id": eos, "pad_token_id": pad}


def model_class(task: str) -> Any:
    from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM

    return AutoModelForSeq2SeqLM if task == "summarize" else AutoModelForCausalLM


def build_preset(name: str, tokenizer: PreTrainedTokenizerBase) -> PreTrainedModel:
    config = preset_config(name, tokenizer)
    with _BUILD_LOCK:
        model = model_class(PRESETS[name].task).from_config(config)
    _sync_generation_config(model, tokenizer)
    return model


def _sync_generation_config(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase) -> None:
    gen = model.generation_config
    for key, value in _special_ids(tokenizer).items():
        setattr(gen, key, value)
    start = getattr(model.config, "decoder_start_token_id", None)
    if start is not None:
        gen.decoder_start_token_id = start


def is_local_model(path: str | os.PathLike) -> bool:
    return Path(path).expanduser().is_dir()


def load_config(name: str, *, trust_remote_code: bool = False) -> PretrainedConfig:
    """The config of a local folder or hub id, with the two errors people hit turned into sentences."""
    from transformers import AutoConfig

    local = Path(name).expanduser()
    if local.exists():
        if not local.is_dir() or not (local / "config.json").is_file():
            raise ModelError(f"'{name}' is not a model folder (it has no config.json); pick a folder written "
                             "by save_pretrained, such as a run's model/ folder, or a preset like gpt-tiny.")
        source = str(local)
    else:
        if _looks_like_path(name):
            raise ModelError(f"'{name}' does not exist; check the path, or use a preset "
                             f"({', '.join(PRESETS)}).")
        source = name
    try:
        return AutoConfig.from_pretrained(source, trust_remote_code=trust_remote_code, **_hub(name))
    except Exception as exc:  # noqa: BLE001 - hub, network and parsing failures all end here
        raise _load_error(name, local.exists(), exc) from exc


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
                          "cache. Connect to the internet, or pass a local model folder or a preset "
                          f"({', '.join(PRESETS)}).")
    return ModelError(f"'{name}' is neither a preset, a model folder nor a model on the Hugging Face Hub "
                      f"({first_line(exc)}); check the name.")


def _hub(name: str) -> dict[str, bool]:
    return {} if is_local_model(name) else hub.load_kwargs()


def max_positions(config: PretrainedConfig) -> int | None:
    """The longest input the model's position embeddings allow; None for relative positions (T5)."""
    for name in ("n_positions", "max_position_embeddings"):
        value = getattr(config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    return None


def task_of_config(config: PretrainedConfig) -> str:
    return "summarize" if getattr(config, "is_encoder_decoder", False) else "lm"


def check_model(name: str, task: str | None = None, *, trust_remote_code: bool = False) -> str:
    """Fail fast (before any data is loaded) if `name` cannot serve `task`; returns the task it serves."""
    implied = task_of_config(load_config(name, trust_remote_code=trust_remote_code))
    if task is not None and task != implied:
        kind = "an encoder-decoder (summarization)" if implied == "summarize" else "a decoder-only (language)"
        raise ModelError(f"'{name}' is {kind} model, which cannot be trained for task '{task}'; choose "
                         f"--task {implied} or another model.")
    return implied


def load_pretrained(name: str, task: str | None = None, *, trust_remote_code: bool = False,
                    attn_implementation: str | None = None, dtype: Any = None) -> PreTrainedModel:
    """Load a local folder or hub id for `task` (or for the task its config implies)."""
    task = check_model(name, task, trust_remote_code=trust_remote_code)
    kwargs: dict[str, Any] = {"trust_remote_code": trust_remote_code}
    if attn_implementation:
        kwargs["attn_implementation"] = attn_implementation
    if dtype is not None:
        kwargs["dtype"] = dtype
    source = str(Path(name).expanduser()) if is_local_model(name) else name
    try:
        with _BUILD_LOCK:
            return model_class(task).from_pretrained(source, **kwargs, **_hub(name))
    except Exception as exc:  # noqa: BLE001
        raise _load_error(name, is_local_model(name), exc) from exc


@dataclass(frozen=True)
class SizeEstimate:
    parameters: int
    weights_bytes: int
    training_bytes: int  # weights + gradients + Adam state + activations for one batch

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def estimate(config: PretrainedConfig, task: str, batch_size: int, seq_len: int, precision: str = "fp32",
             target_len: int = 0) -> SizeEstimate:
    """Count parameters without allocating them (meta device) and estimate training memory.

    Activations follow Korthikanti et al. (2022), ~(34*h + 5*a*s) bytes per token per layer in half
    precision, doubled for fp32; plus the logits and their gradient. An estimate, shown as one.
    """
    import torch

    with _BUILD_LOCK, torch.device("meta"):
        model = model_class(task).from_config(config)
    params = sum(p.numel() for p in model.parameters())
    hidden = getattr(config, "hidden_size", None) or getattr(config, "d_model", 0)
    heads = getattr(config, "num_attention_heads", None) or getattr(config, "num_heads", 1)
    layers = (getattr(config, "num_hidden_layers", 0) or getattr(config, "num_layers", 0))
    if getattr(config, "is_encoder_decoder", False):
        layers = (getattr(config, "encoder_layers", 0) or layers) + (getattr(config, "decoder_layers", 0)
                                                                    or getattr(config, "num_decoder_layers", 0))
    scale = 1 if precision in ("bf16", "fp16") else 2
    tokens = batch_size * max(seq_len, target_len)
    activations = tokens * layers * (34 * hidden + 5 * heads * max(seq_len, target_len)) * scale
    logits = batch_size * (target_len or seq_len) * config.vocab_size * 4 * 2
    return SizeEstimate(parameters=params, weights_bytes=params * 4,
                        training_bytes=params * 16 + activations + logits)
