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

FOLDER = "attention"
MAX_PROBE_TOKENS = 64
_NAME = re.compile(r"^step-(\d+)\.npz$")


def probe_ids(tokenizer: Any, text: str) -> list[int]:
    return tokenizer(text, add_special_tokens=False)["input_ids"][:MAX_PROBE_TOKENS]


def record(model: Any, tokenizer: Any, text: str, step: int, run_dir: Path) -> Path:
    """Save the probe's attention at `step`; the model is left as it was (mode and attention kernel)."""
    device = str(next(model.parameters()).device)
    ids = probe_ids(tokenizer, text)
    decoder = None
    if model.config.is_encoder_decoder:
        decoder = [model.generation_config.decoder_start_token_id] + ids
        ids = ids + [tokenizer.eos_token_id]
    was_training = model.training
    kernel = model.config._attn_implementation
    model.eval()
    try:
        if kernel != "eager":
            model.set_attn_implementation("eager")
        att = forward(model, tokenizer, device, ids, decoder)
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
    """The run a model folder belongs to (RUN/model or RUN/checkpoints/checkpoint-N), if any."""
    path = Path(model_dir)
    for candidate in (path, path.parent, path.parent.parent):
        if (candidate / FOLDER).is_dir():
            return candidate
    return None


def load(path: Path) -> Attention:
    return Attention.load_npz(path)
