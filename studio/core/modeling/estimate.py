"""How big a model is and how much memory training it takes, known before any weight is allocated."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from studio.core.modeling import lora
from studio.core.modeling.loading import BUILD_LOCK, auto_class

if TYPE_CHECKING:
    from transformers import PretrainedConfig


@dataclass(frozen=True)
class SizeEstimate:
    parameters: int  # adapters included
    weights_bytes: int
    training_bytes: int  # weights + gradients + Adam state + activations for one batch
    trainable: int  # the parameters that learn: all, or under LoRA the adapters and the head

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def estimate(config: PretrainedConfig, auto: str, batch_size: int, seq_len: int, precision: str = "fp32",
             target_len: int = 0, adapters: dict[str, Any] | None = None, checkpointing: bool = False,
             quantized: bool = False, sequences: int = 1, reference: bool = False) -> SizeEstimate:
    """Count parameters without allocating them (meta device) and estimate training memory.

    Every weight costs 4 bytes (half a byte when `quantized` to 4 bits, as QLoRA's frozen base); those that
    train 12 more for their gradient and Adam's two moments: all of them, or with `adapters` (the arguments of
    `lora.wrap`) only the adapters and the head. Activations follow Korthikanti et al. (2022), ~(34*h + 5*a*s)
    bytes per token per layer in half precision, doubled for fp32, with the feed-forward part sized by the
    model's own width, gating and activation (`_per_token`); plus the logits and their gradient. With
    gradient `checkpointing` only each layer's input stays (2*h bytes a token in half precision) and one
    layer's activations at a time are rebuilt. A row of `sequences` sequences (a preference pair's two
    answers) costs that many times the activations; a `reference` copy of the model (DPO's) its weights
    again. An estimate, shown as one.
    """
    import torch

    with BUILD_LOCK, torch.device("meta"):
        model = auto_class(auto).from_config(config)
        outputs = model.get_output_embeddings()
        if adapters is not None:
            model = lora.wrap(model, **adapters)
    params, trainable = lora.parameter_counts(model)
    hidden = getattr(config, "hidden_size", None) or getattr(config, "d_model", 0)
    heads = getattr(config, "num_attention_heads", None) or getattr(config, "num_heads", 1)
    layers = (getattr(config, "num_hidden_layers", 0) or getattr(config, "num_layers", 0))
    if getattr(config, "is_encoder_decoder", False):
        layers = (getattr(config, "encoder_layers", 0) or layers) + (getattr(config, "decoder_layers", 0)
                                                                    or getattr(config, "num_decoder_layers", 0))
    scale = 1 if precision in ("bf16", "fp16") else 2
    tokens = batch_size * sequences * max(seq_len, target_len)
    per_layer = tokens * (_per_token(config, model, hidden) + 5 * heads * max(seq_len, target_len)) * scale
    activations = tokens * layers * 2 * hidden * scale + per_layer if checkpointing else per_layer * layers
    width = config.vocab_size if outputs is not None else max(1, getattr(config, "num_labels", 2))
    logits = batch_size * sequences * (target_len or seq_len) * width * 4 * 2
    weights = (params - trainable) // 2 + trainable * 4 if quantized else params * 4
    weights += params * 4 if reference else 0
    return SizeEstimate(parameters=params, weights_bytes=weights, trainable=trainable,
                        training_bytes=weights + trainable * 12 + activations + logits)


# transformers' activations written as several elementwise operations, each of whose results autograd keeps
_UNFUSED_ACTIVATIONS = {"gelu_new": 3, "gelu_fast": 3, "quick_gelu": 1}


def _per_token(config: PretrainedConfig, model: Any, hidden: int) -> int:
    """Bytes one token keeps per layer for the backward pass, in half precision, but for attention's
    sequence-long part. Korthikanti et al. count 15h for attention and the norms, 2h for the feed-forward's
    input and two 4h-wide tensors (the activation's input and the second matrix's input) for a plain MLP: 34h
    in all. Here the feed-forward width is the model's own, a gated one (SwiGLU, GeGLU: a `gate` matrix) keeps
    four such tensors, and an activation computed in several steps keeps one more for each step."""
    width = next((getattr(config, n) for n in ("intermediate_size", "n_inner", "d_ff", "ffn_dim", "encoder_ffn_dim",
                                               "hidden_dim", "intermediate_dim") if getattr(config, n, None)),
                 4 * hidden)
    gated = any("gate" in name.rsplit(".", 1)[-1] for name, _ in model.named_modules())
    act = next((getattr(config, n) for n in ("hidden_act", "activation_function", "hidden_activation",
                                             "dense_act_fn") if isinstance(getattr(config, n, None), str)), "")
    kept = (4 if gated else 2) + _UNFUSED_ACTIVATIONS.get(act, 0)
    return 17 * hidden + 2 * width * kept


def running_bytes(config: PretrainedConfig, parameters: int, seq_len: int, precision: str = "fp32") -> int:
    """Memory to run a model for one sequence of `seq_len` tokens: its weights in `precision`, a decoder's
    key/value cache, one layer's activations at a time and the logits. An estimate, shown as one."""
    width = 2 if precision in ("bf16", "fp16") else 4
    hidden = getattr(config, "hidden_size", None) or getattr(config, "d_model", 0)
    layers = getattr(config, "num_hidden_layers", 0) or getattr(config, "num_layers", 0)
    heads = getattr(config, "num_attention_heads", None) or getattr(config, "num_heads", 1) or 1
    kv_heads = getattr(config, "num_key_value_heads", None) or heads
    cache = 2 * layers * seq_len * hidden * kv_heads // heads * width
    activations = seq_len * (16 * hidden + heads * seq_len) * width
    logits = seq_len * getattr(config, "vocab_size", 0) * 4
    return parameters * width + cache + activations + logits
