"""`studio attention`: every layer's and head's attention for a text, saved as .npz."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from studio.cli.common import load_model
from studio.core.errors import ConfigError


def register(commands: Any) -> None:
    p = commands.add_parser("attention", help="save a model's attention weights for a text as .npz")
    p.add_argument("--model", required=True, metavar="DIR", help="a run folder, a model folder or a hub id")
    p.add_argument("--text", required=True, help="the text to run through the model")
    p.add_argument("--target", help="the decoder text for encoder-decoder models (default: the model's own "
                   "greedy output)")
    p.add_argument("--context", "--pair", dest="pair", metavar="TEXT",
                   help="a second text read with the first under the tokenizer's pair template (a question's "
                        "context); the file marks where each begins (turn_roles, turn_starts)")
    p.add_argument("--out", required=True, metavar="FILE.npz",
                   help="where to save every layer's and head's weights, with the tokens")
    p.add_argument("--device", default="auto", help="auto, cuda, mps or cpu (default: auto)")
    p.set_defaults(func=attention)


def attention(args: argparse.Namespace) -> int:
    from studio.core.attention import extract

    out = Path(args.out).expanduser()
    if out.suffix != ".npz":
        raise ConfigError(f"--out must end in .npz (got '{out.name}').")
    _check_writable(out)
    loaded = load_model(args.model, args.device, attn_implementation="eager")
    result = extract.extract(loaded, args.text, args.target, args.pair)
    try:
        result.save_npz(out)
    except OSError as exc:
        raise ConfigError(f"Cannot write '{out}' ({exc.strerror or exc}); choose another --out.") from None
    shapes = ", ".join(f"{k} {tuple(v.shape)}" for k, v in result.arrays().items() if v.ndim > 1)
    print(f"Saved {out} ({shapes}).", file=sys.stderr)
    return 0


def _check_writable(out: Path) -> None:
    """Say what is wrong with --out before the model is loaded, rather than failing after the work."""
    if out.is_dir():
        raise ConfigError(f"--out '{out}' is a folder; give a file name ending in .npz.")
    for parent in out.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ConfigError(f"--out '{out}' cannot be written: '{parent}' is a file, not a folder.")
            break
