"""Attention weights as float32 numpy arrays, with the token strings they refer to.

The model must be loaded with `attn_implementation="eager"`: the fused SDPA kernels never materialise
the weights, so transformers returns none for them.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from studio.core.errors import ConfigError
from studio.core.fsutil import atomic_write_bytes
from studio.core.inference import LoadedModel

_MAX_TARGET_TOKENS = 48


@dataclass
class Attention:
    """Decoder-only: `tokens` and `attentions` [layers, heads, T, T]. Encoder-decoder: the encoder,
    decoder and cross arrays ([layers, heads, T_dec, T_enc] for cross) with their two token lists."""

    tokens: list[str] | None = None
    attentions: np.ndarray | None = None
    encoder_tokens: list[str] | None = None
    decoder_tokens: list[str] | None = None
    encoder_attentions: np.ndarray | None = None
    decoder_attentions: np.ndarray | None = None
    cross_attentions: np.ndarray | None = None

    @property
    def is_encoder_decoder(self) -> bool:
        return self.encoder_attentions is not None

    def arrays(self) -> dict[str, np.ndarray]:
        """Everything as numpy arrays (token lists as unicode arrays, loadable without pickle)."""
        out = {}
        for name, value in self.__dict__.items():
            if value is None:
                continue
            out[name] = np.array(value, dtype=np.str_) if isinstance(value, list) else value
        return out

    def save_npz(self, path: Path) -> None:
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **self.arrays())
        atomic_write_bytes(path, buffer.getvalue())


def _stack(per_layer: Any) -> np.ndarray:
    """Models return one [batch, heads, T, S] tensor per layer; we keep batch 0 as [layers, heads, T, S]."""
    import torch

    return torch.stack([layer[0] for layer in per_layer]).float().cpu().numpy()


def _token_strings(tokenizer: Any, ids: list[int]) -> list[str]:
    return [tokenizer.decode([i], skip_special_tokens=False) for i in ids]


def extract(loaded: LoadedModel, text: str, target: str | None = None) -> Attention:
    """Run `text` through the model once and return every layer's and head's attention weights."""
    import torch

    if loaded.model.config._attn_implementation != "eager":
        raise ConfigError("Attention weights need a model loaded with attn_implementation='eager'.")
    if not text.strip():
        raise ConfigError("There is no text to look at; give --text with a few words in it.")
    tok, model = loaded.tokenizer, loaded.model
    ids = tok(text, add_special_tokens=False)["input_ids"][: loaded.max_positions]
    if not model.config.is_encoder_decoder:
        with torch.inference_mode():
            out = model(input_ids=torch.tensor([ids], device=loaded.device), output_attentions=True)
        return Attention(tokens=_token_strings(tok, ids), attentions=_stack(out.attentions))
    ids = ids[: loaded.max_positions - 1] + [tok.eos_token_id]
    encoder_input = torch.tensor([ids], device=loaded.device)
    start = model.generation_config.decoder_start_token_id
    if target is None:
        with torch.inference_mode():
            generated = model.generate(input_ids=encoder_input, max_new_tokens=_MAX_TARGET_TOKENS, max_length=None, do_sample=False,
                                       num_beams=1)[0].tolist()
        decoder_ids = generated if generated and generated[0] == start else [start] + generated
    else:
        decoder_ids = [start] + tok(target, add_special_tokens=False)["input_ids"][: loaded.max_positions - 1]
    with torch.inference_mode():
        out = model(input_ids=encoder_input, decoder_input_ids=torch.tensor([decoder_ids], device=loaded.device),
                    output_attentions=True)
    return Attention(encoder_tokens=_token_strings(tok, ids), decoder_tokens=_token_strings(tok, decoder_ids),
                     encoder_attentions=_stack(out.encoder_attentions),
                     decoder_attentions=_stack(out.decoder_attentions),
                     cross_attentions=_stack(out.cross_attentions))
