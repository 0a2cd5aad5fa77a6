"""Presets: small models of five families, built from config with every special id a model needs.

A preset is an architecture and a size, not a task: `gpt-tiny` is a language model or, with a
classification head, a classifier. The task says which head (its auto class); the family says which
tokenizer to train for it (see data.tokenizer.FAMILIES).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from studio.core.errors import ModelError
from studio.core.modeling.loading import BUILD_LOCK, auto_class

if TYPE_CHECKING:
    from transformers import PretrainedConfig, PreTrainedModel, PreTrainedTokenizerBase

MAX_POSITIONS = 1024


@dataclass(frozen=True)
class Preset:
    family: str  # "gpt2", "llama", "bert", "bart" or "t5"
    size: dict[str, int]
    description: str


PRESETS: dict[str, Preset] = {
    "gpt-tiny": Preset("gpt2", {"layers": 2, "heads": 4, "width": 128},
                       "GPT-2-style decoder, 2 layers x 128 wide: learns in minutes on a CPU"),
    "gpt-small": Preset("gpt2", {"layers": 6, "heads": 8, "width": 512},
                        "GPT-2-style decoder, 6 layers x 512 wide: wants a GPU"),
    "llama-tiny": Preset("llama", {"layers": 2, "heads": 4, "width": 128},
                         "Llama-style decoder (RoPE, RMSNorm, grouped-query attention, SwiGLU), 2 layers x 128 "
                         "wide, with a ChatML template: learns in minutes on a CPU"),
    "llama-small": Preset("llama", {"layers": 8, "heads": 8, "width": 512},
                          "Llama-style decoder, 8 layers x 512 wide, with a ChatML template: wants a GPU"),
    "bert-tiny": Preset("bert", {"layers": 2, "heads": 4, "width": 128},
                        "BERT-style encoder, 2 layers x 128 wide: learns in minutes on a CPU"),
    "bert-small": Preset("bert", {"layers": 4, "heads": 8, "width": 512},
                         "BERT-style encoder, 4 layers x 512 wide: wants a GPU"),
    "bart-tiny": Preset("bart", {"layers": 2, "heads": 4, "width": 128},
                        "BART-style encoder-decoder, 2+2 layers x 128 wide"),
    "bart-small": Preset("bart", {"layers": 6, "heads": 8, "width": 512},
                         "BART-style encoder-decoder, 6+6 layers x 512 wide: wants a GPU"),
    "t5-tiny": Preset("t5", {"layers": 2, "heads": 4, "width": 128},
                      "T5-style encoder-decoder, 2+2 layers x 128 wide"),
}


def is_preset(name: str) -> bool:
    return name in PRESETS


def family(name: str) -> str:
    return PRESETS[name].family


def preset_config(name: str, tokenizer: PreTrainedTokenizerBase, **extra: Any) -> PretrainedConfig:
    """The config of a preset, sized to `tokenizer`, with every special token id a model needs set.

    `extra` goes into the config as it is (a classifier's `id2label` and `label2id`).
    """
    ids = special_ids(tokenizer, needs_end=PRESETS[name].family != "bert")
    # The template gives BART targets as `<s> y </s>`, as real BART checkpoints are trained: generation
    # starts from `</s>` and is made to say `<s>` first, as facebook/bart-large-cnn does.
    starts_with_bos = "bos_token_id" in ids and tokenizer("a")["input_ids"][0] == ids["bos_token_id"]
    return _config(name, len(tokenizer), ids, starts_with_bos, extra)


def sized_config(name: str, vocab_size: int, **extra: Any) -> PretrainedConfig:
    """A preset's config for a vocabulary size alone, for estimates before any tokenizer exists."""
    return _config(name, vocab_size, {"pad_token_id": 0, "bos_token_id": 1, "eos_token_id": 2}, False, extra)


def _config(name: str, vocab: int, ids: dict[str, int], forced_bos: bool, extra: dict[str, Any]) -> PretrainedConfig:
    from transformers import BartConfig, BertConfig, GPT2Config, LlamaConfig, T5Config

    preset = PRESETS[name]
    layers, heads, d = preset.size["layers"], preset.size["heads"], preset.size["width"]
    if preset.family == "gpt2":
        return GPT2Config(vocab_size=vocab, n_positions=MAX_POSITIONS, n_layer=layers, n_head=heads, n_embd=d,
                          **ids, **extra)
    if preset.family == "llama":
        # two query heads share each key/value head, and the feed-forward is SwiGLU's 8/3 of the width (to a
        # multiple of 32), as Llama sizes it; small models tie their input and output embeddings (SmolLM2)
        return LlamaConfig(vocab_size=vocab, hidden_size=d, num_hidden_layers=layers, num_attention_heads=heads,
                           num_key_value_heads=max(1, heads // 2), intermediate_size=-(-8 * d // 3 // 32) * 32,
                           hidden_act="silu", max_position_embeddings=MAX_POSITIONS, rms_norm_eps=1e-5,
                           tie_word_embeddings=True, **ids, **extra)
    if preset.family == "bert":
        return BertConfig(vocab_size=vocab, hidden_size=d, num_hidden_layers=layers, num_attention_heads=heads,
                          intermediate_size=4 * d, max_position_embeddings=MAX_POSITIONS, **ids, **extra)
    if preset.family == "bart":
        return BartConfig(vocab_size=vocab, d_model=d, init_std=init_std(d), encoder_layers=layers,
                          decoder_layers=layers,
                          encoder_attention_heads=heads, decoder_attention_heads=heads, encoder_ffn_dim=4 * d,
                          decoder_ffn_dim=4 * d, max_position_embeddings=MAX_POSITIONS,
                          decoder_start_token_id=ids["eos_token_id"], forced_eos_token_id=ids["eos_token_id"],
                          forced_bos_token_id=ids["bos_token_id"] if forced_bos else None, **ids, **extra)
    return T5Config(vocab_size=vocab, d_model=d, d_kv=d // heads, d_ff=4 * d, num_layers=layers, num_heads=heads,
                    decoder_start_token_id=ids["pad_token_id"], **ids, **extra)


def init_std(width: int) -> float:
    """The spread of a BART preset's initial weights: 1/sqrt(width), as T5 scales its own.

    BART defaults to 0.02 whatever the width, a value tuned for 768 wide. At 128 wide it starts every
    attention logit near zero, so self-attention averages all positions into one vector and
    cross-attention cannot tell one source from another: a bart-tiny summarizer learned to write the same
    docstring for every function (encoder output equal at every position), and on a copy-a-word task
    one seed in two never left the loss plateau. At 1/sqrt(width) it learned the copy task on every seed.
    The GPT-2 and BERT presets keep 0.02: measured so far, masked-LM accuracy did not change with it.
    """
    return round(width ** -0.5, 4)


def special_ids(tokenizer: PreTrainedTokenizerBase, *, needs_end: bool = True) -> dict[str, int]:
    """bos, eos and pad ids for a config, borrowing the end token where a tokenizer lacks the others."""
    eos = tokenizer.eos_token_id
    if eos is None and needs_end:
        raise ModelError("The tokenizer has no end-of-text token; train a tokenizer with Studio or use a "
                         "model's own tokenizer.")
    bos = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else eos
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos
    found = {"bos_token_id": bos, "eos_token_id": eos, "pad_token_id": pad}
    return {key: value for key, value in found.items() if value is not None}


def build(name: str, tokenizer: PreTrainedTokenizerBase, auto: str, **extra: Any) -> PreTrainedModel:
    """A preset with fresh weights, as `auto` (an auto class name such as AutoModelForCausalLM)."""
    config = preset_config(name, tokenizer, **extra)
    with BUILD_LOCK:
        model = auto_class(auto).from_config(config)
    sync_generation_config(model, tokenizer)
    return model


def sync_generation_config(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase) -> None:
    gen = getattr(model, "generation_config", None)
    if gen is None:
        return
    for key, value in special_ids(tokenizer, needs_end=False).items():
        setattr(gen, key, value)
    for key in ("decoder_start_token_id", "forced_bos_token_id", "forced_eos_token_id"):
        value = getattr(model.config, key, None)
        if value is not None:
            setattr(gen, key, value)
