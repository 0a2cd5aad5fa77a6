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

from studio.core.data.encoding import encode
from studio.core.errors import ConfigError
from studio.core.modeling import shapes
from studio.core.modeling.loaded import LoadedModel
from studio.core.system.files import atomic_write_bytes

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
    # a conversation (decoder-only): each message's role, and the token its turn begins at
    turn_roles: list[str] | None = None
    turn_starts: np.ndarray | None = None

    def turns(self) -> list[tuple[str, int, int]]:
        """A conversation's turns as (role, first token, one past the last token); none for plain text."""
        if self.turn_roles is None or self.turn_starts is None or self.tokens is None:
            return []
        ends = [*self.turn_starts[1:].tolist(), len(self.tokens)]
        return [(role, int(start), int(end)) for role, start, end in zip(self.turn_roles, self.turn_starts, ends)
                if end > start]

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

    def save_npz(self, path: Path, dtype: Any = np.float32) -> None:
        buffer = io.BytesIO()
        arrays = {k: v.astype(dtype) if v.dtype.kind == "f" else v for k, v in self.arrays().items()}
        np.savez_compressed(buffer, **arrays)
        atomic_write_bytes(path, buffer.getvalue())

    @classmethod
    def load_npz(cls, path: Path) -> Attention:
        try:
            with np.load(path, allow_pickle=False) as npz:
                values = {k: npz[k] for k in npz.files if k in cls.__dataclass_fields__}
        except (OSError, ValueError) as exc:
            raise ConfigError(f"'{path}' is not a readable attention file ({exc}).") from None
        return cls(**{k: v.tolist() if v.dtype.kind == "U" else v.astype(np.float32) if v.dtype.kind == "f" else v
                      for k, v in values.items()})

    def views(self) -> dict[str, tuple[np.ndarray, list[str], list[str]]]:
        """Each kind of attention as (weights [layers, heads, rows, columns], row tokens, column tokens).

        Rows are the tokens that attend ("from"), columns the tokens attended to ("to").
        """
        if not self.is_encoder_decoder:
            return {"self": (self.attentions, self.tokens, self.tokens)}
        return {"encoder": (self.encoder_attentions, self.encoder_tokens, self.encoder_tokens),
                "decoder": (self.decoder_attentions, self.decoder_tokens, self.decoder_tokens),
                "cross": (self.cross_attentions, self.decoder_tokens, self.encoder_tokens)}


def _stack(per_layer: Any) -> np.ndarray:
    """Models return one [batch, heads, T, S] tensor per layer; we keep batch 0 as [layers, heads, T, S]."""
    import torch

    return torch.stack([layer[0] for layer in per_layer]).float().cpu().numpy()


def _token_strings(tokenizer: Any, ids: list[int]) -> list[str]:
    return [tokenizer.decode([i], skip_special_tokens=False) for i in ids]


def require_eager(loaded: LoadedModel) -> None:
    if loaded.model.config._attn_implementation != "eager":
        raise ConfigError("Attention weights need a model loaded with attn_implementation='eager'.")


def forward(model: Any, tokenizer: Any, ids: list[int], decoder_ids: list[int] | None = None,
            token_types: list[int] | None = None) -> Attention:
    """One forward pass of an eager-attention model over `ids` (and `decoder_ids` for encoder-decoders)."""
    import torch

    extra = {} if token_types is None else {"token_type_ids": torch.tensor([token_types], device=shapes.device_of(model))}
    with torch.inference_mode():
        out = shapes.forward(model, ids, decoder_ids, output_attentions=True, **extra)
    if not model.config.is_encoder_decoder:
        return Attention(tokens=_token_strings(tokenizer, ids), attentions=_stack(out.attentions))
    return Attention(encoder_tokens=_token_strings(tokenizer, ids),
                     decoder_tokens=_token_strings(tokenizer, decoder_ids or []),
                     encoder_attentions=_stack(out.encoder_attentions),
                     decoder_attentions=_stack(out.decoder_attentions),
                     cross_attentions=_stack(out.cross_attentions))


def extract(loaded: LoadedModel, text: str, target: str | None = None, pair: str | None = None) -> Attention:
    """Run `text` through the model once and return every layer's and head's attention weights.

    The text is encoded with the tokenizer's own template, as the model read it in training. For an
    encoder-decoder model the decoder reads `target`, or, without one, the model's own greedy answer
    (so encoder, decoder and cross-attention are all there to see). With `pair`, the model reads the two
    texts as one input under the template's pair form (a question and its context), and the map marks
    where each begins.
    """
    import torch

    require_eager(loaded)
    if not text.strip():
        raise ConfigError("There is no text to look at; give --text with a few words in it.")
    tok, model = loaded.tokenizer, loaded.model
    if pair is not None and pair.strip():
        return _extract_pair(loaded, text, pair)
    ids = encode(tok, [text], limit=loaded.input_limit)[0]
    if not model.config.is_encoder_decoder:
        return forward(model, tok, ids)
    if not model.can_generate():  # a classifier: its decoder reads the text shifted right, as the model does
        return forward(model, tok, ids, shapes.decoder_sequence(model, ids[:-1]))
    if target is None or not target.strip():
        with torch.inference_mode():
            generated = model.generate(input_ids=torch.tensor([ids], device=loaded.device),
                                       max_new_tokens=_MAX_TARGET_TOKENS, max_length=None, do_sample=False,
                                       num_beams=1)[0].tolist()
        start = shapes.decoder_start(model)
        decoder_ids = generated if generated and generated[0] == start else [start] + generated
    else:
        decoder_ids = shapes.decoder_sequence(model, encode(tok, [target], limit=loaded.input_limit - 1)[0])
    return forward(model, tok, ids, decoder_ids)


def _extract_pair(loaded: LoadedModel, first: str, second: str) -> Attention:
    """Both texts under the tokenizer's pair template, with the token types the model was trained with; the
    second is cut first when the two are too long, as a context is in question answering."""
    if loaded.model.config.is_encoder_decoder:
        raise ConfigError(f"'{loaded.source}' is an encoder-decoder and reads one text; leave the second text empty.")
    encoding = loaded.tokenizer(first, second, truncation="longest_first", max_length=loaded.input_limit,
                                return_token_type_ids=True)
    ids = encoding["input_ids"]
    sequence = encoding.sequence_ids()
    starts = [0, next((i for i, s in enumerate(sequence) if s == 1), len(ids))]
    if starts[1] >= len(ids) or 0 not in sequence:
        raise ConfigError(f"The first text fills all {loaded.input_limit:,} tokens the model reads; shorten it so "
                          "the second has room.")
    types = encoding.get("token_type_ids")
    att = forward(loaded.model, loaded.tokenizer, ids, token_types=types if any(types or []) else None)
    spec = loaded.task.playground
    att.turn_roles = [spec.input_title.lower(), spec.pair_title.lower()] if spec and spec.pair_title else \
        ["text A", "text B"]
    att.turn_starts = np.array(starts, dtype=np.int64)
    return att


def write_csv(path: Path, matrix: np.ndarray, rows: list[str], columns: list[str]) -> None:
    """One matrix as CSV: a header of the attended tokens, then one row per attending token."""
    import csv

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["from \\ to", *columns])
    for token, values in zip(rows, matrix):
        writer.writerow([token, *(f"{v:.6g}" for v in values)])
    atomic_write_bytes(path, buffer.getvalue().encode("utf-8"))
