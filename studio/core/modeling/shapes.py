"""The three shapes of transformer, and how each is fed: the one place that knows that an
encoder-decoder reads its text in the encoder and its output, after a start token, in the decoder.

Generation, token scoring, attention extraction, the training probe and head statistics all build
their inputs here, so the encoder-decoder set-up is written once.
"""

from __future__ import annotations

from typing import Any

DECODER = "decoder-only"  # GPT-2, Llama: causal self-attention
ENCODER = "encoder-only"  # BERT: bidirectional self-attention
ENCODER_DECODER = "encoder-decoder"  # BART, T5: encoder, decoder and cross-attention


def shape(config: Any) -> str:
    """DECODER, ENCODER or ENCODER_DECODER for a model config.

    Encoder-only is told by the model type having a masked-LM class and no causal one in transformers'
    own registries (BERT also has a causal head class, so that is checked by its config instead).
    """
    if getattr(config, "is_encoder_decoder", False):
        return ENCODER_DECODER
    from transformers.models.auto import modeling_auto

    kind = getattr(config, "model_type", "")
    if getattr(config, "is_decoder", False):
        return DECODER
    if kind in modeling_auto.MODEL_FOR_MASKED_LM_MAPPING_NAMES:
        return ENCODER
    return DECODER


def decoder_start(model: Any) -> int:
    gen = getattr(model, "generation_config", None)
    start = getattr(gen, "decoder_start_token_id", None)
    return start if start is not None else model.config.decoder_start_token_id


def _tensor(ids: list[int], device: Any) -> Any:
    import torch

    return torch.tensor([ids], device=device)


def device_of(model: Any) -> Any:
    return next(model.parameters()).device


def forward(model: Any, ids: list[int], decoder_ids: list[int] | None = None, **kwargs: Any) -> Any:
    """One forward pass over one sequence (and, for an encoder-decoder, its decoder sequence)."""
    device = device_of(model)
    inputs = {"input_ids": _tensor(ids, device)}
    if model.config.is_encoder_decoder:
        inputs["decoder_input_ids"] = _tensor(decoder_ids if decoder_ids is not None else [decoder_start(model)],
                                              device)
    return model(**inputs, **kwargs)


def continuation_logits(model: Any, source: list[int], target: list[int]) -> Any:
    """Logits [len(target), vocab]: row i is the model's prediction for target[i], teacher-forced.

    A decoder-only model reads source then target; an encoder-decoder reads source in the encoder and
    the target after its start token in the decoder.
    """
    if model.config.is_encoder_decoder:
        return forward(model, source, [decoder_start(model)] + target[:-1]).logits[0]
    return forward(model, source + target[:-1]).logits[0, len(source) - 1:]


def decoder_sequence(model: Any, ids: list[int]) -> list[int]:
    """What an encoder-decoder's decoder reads when it is to read `ids`: its start token first."""
    return [decoder_start(model)] + ids
