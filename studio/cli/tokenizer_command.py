"""`studio tokenizer train`: a byte-level BPE tokenizer for a model family, trained on your data."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from studio.cli.common import cache
from studio.core.data.tokenizer import FAMILIES
from studio.core.errors import ConfigError


def register(commands: Any) -> None:
    tok = commands.add_parser("tokenizer", help="train a byte-level BPE tokenizer")
    tok_commands = tok.add_subparsers(dest="tokenizer_command", required=True, metavar="COMMAND")
    p = tok_commands.add_parser("train", help="train a tokenizer on a file, folder or sample")
    p.add_argument("--data", required=True, metavar="PATH|sample:NAME")
    p.add_argument("--vocab-size", type=int, default=4096, metavar="N")
    p.add_argument("--out", required=True, metavar="DIR")
    p.add_argument("--text-column", metavar="C", help="the column to learn from (default: every text column)")
    p.add_argument("--family", choices=list(FAMILIES), default="gpt2",
                   help="the model family whose special tokens and template it carries (default gpt2)")
    p.set_defaults(func=tokenizer_train)


def tokenizer_train(args: argparse.Namespace) -> int:
    from studio.core.data import sources
    from studio.core.data.columns import TEXT, Column, map_columns, text_columns
    from studio.core.data.tokenizer import check_vocab_size, save_tokenizer, train_bpe
    from studio.core.runs import guard

    check_vocab_size(args.vocab_size)
    out = Path(args.out).expanduser()
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / "tokenizer.json").exists())):
        raise ConfigError(f"'{out}' holds other files; choose an empty or new folder for the tokenizer.")
    guard.check_replaceable(out)
    ds = sources.load(args.data, cache(args))
    if args.text_column:
        role = Column("text", "Text", TEXT, (), "")
        columns = [map_columns(ds, (role,), {"text": args.text_column}, {"text": "--text-column"})["text"]]
    else:
        columns = text_columns(ds)
        if not columns:
            raise ConfigError(f"'{args.data}' has no text columns to learn from.")
    started = time.perf_counter()
    tokenizer = train_bpe(sources.iter_texts(ds, columns), args.vocab_size, family=args.family,
                          total=len(ds) * len(columns))
    save_tokenizer(tokenizer, out)
    print(f"Trained a {len(tokenizer)}-token tokenizer on {len(ds)} rows in {time.perf_counter() - started:.1f} s; "
          f"saved to {out}.", file=sys.stderr)
    return 0
