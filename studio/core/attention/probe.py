"""Attention forming during training: a probe text's attention, recorded at each evaluation.

Stored with the run as RUN/attention/step-00000100.npz (float16, compressed; a 64-token probe on a
12x12 model is about 1 MB), written atomically. Recording switches the model to eager attention for
one forward pass in eval mode and back, so it draws no random numbers and leaves training unchanged.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from studio.core.attention.extract import Attention, forward
from studio.core.data.encoding import encode
from studio.core.modeling import shapes
from studio.core.runs import layout

FOLDER = "attention"
MAX_PROBE_TOKENS = 64
_NAME = re.compile(r"^step-(\d+)\.npz$")


def probe_ids(tokenizer: Any, text: str) -> list[int]:
    """The probe as the model reads it: through the tokenizer's template, cut to MAX_PROBE_TOKENS."""
    return encode(tokenizer, [text], limit=MAX_PROBE_TOKENS)[0]


def record(model: Any, tokenizer: Any, text: str, step: int, run_dir: Path) -> Path:
    """Save the probe's attention at `step`; the model is left as it was (mode and attention kernel).

    An encoder-decoder reads the probe on both sides: in the encoder, and teacher-forced in the decoder.
    """
    ids = probe_ids(tokenizer, text)
    decoder = shapes.decoder_sequence(model, ids) if model.config.is_encoder_decoder else None
    was_training = model.training
    kernel = model.config._attn_implementation
    model.eval()
    try:
        if kernel != "eager":
            model.set_attn_implementation("eager")
        att = forward(model, tokenizer, ids, decoder)
    finally:
        if kernel != "eager":
            model.set_attn_implementation(kernel)
        model.train(was_training)
    path = run_dir / FOLDER / f"step-{step:08d}.npz"
    att.save_npz(path, dtype=np.float16)
    return path


def recorded(run_dir: Path) -> list[tuple[int, Path]]:
    """(step, file) of every recorded probe, in step order."""
    folder = Path(run_dir) / FOLDER
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := _NAME.match(p.name))]
    return sorted(found)


def run_of(model_dir: str | Path) -> Path | None:
    """The run a model folder belongs to, if that run recorded a probe."""
    run = layout.run_of(model_dir)
    return run if run is not None and (run / FOLDER).is_dir() else None


def load(path: Path) -> Attention:
    return Attention.load_npz(path)
