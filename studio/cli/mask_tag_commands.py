"""`studio fill-mask` and `studio tag`: what a masked language model puts in a gap, and what a token
classifier tags."""

from __future__ import annotations

import argparse
import json
from typing import Any


def register(commands: Any) -> None:
    p = commands.add_parser("fill-mask", help="the likeliest tokens for each mask token in a text (masked LM)",
                            description="TEXT must hold the model's own mask token: [MASK] for BERT-style models "
                                        "Studio trains, <mask> for RoBERTa-style ones.")
    p.add_argument("--model", required=True, metavar="DIR", help="a masked language model: a run, folder or hub id")
    p.add_argument("--text", required=True, help="a text with the model's mask token where a token is missing")
    p.add_argument("--top-k", type=int, default=5, metavar="N", help="candidates per mask (5)")
    p.add_argument("--device", default="auto")
    p.add_argument("--json", action="store_true", help='print {"masks": [[{"token", "id", "score"}, ...], ...]}, '
                   "one list per mask in order")
    p.set_defaults(func=fill_mask)
    p = commands.add_parser("tag", help="the entities a token classifier finds in a text, and every token's tag")
    p.add_argument("--model", required=True, metavar="DIR", help="a token classifier: a run, folder or hub id")
    p.add_argument("--text", required=True)
    p.add_argument("--device", default="auto")
    p.add_argument("--json", action="store_true", help='print {"entities": [{"text", "label", "start", "end", '
                   '"score"}, ...], "tokens": [{"text", "tag", "score"}, ...]} with offsets into TEXT')
    p.set_defaults(func=tag)


def fill_mask(args: argparse.Namespace) -> int:
    from studio.core.playground import fill_mask as masks
    from studio.core.tasks import loaded as inference

    loaded = inference.load(args.model, device=args.device)
    found = masks.fill(loaded, args.text, top_k=args.top_k)
    if args.json:
        print(json.dumps(masks.as_json(found), ensure_ascii=False))
        return 0
    for number, candidates in enumerate(found, start=1):
        print(f"mask {number}: " + "  ".join(f"{c.token.strip() or repr(c.token)} {c.score:.1%}" for c in candidates))
    return 0


def tag(args: argparse.Namespace) -> int:
    from studio.core.playground import tagging
    from studio.core.tasks import loaded as inference

    loaded = inference.load(args.model, device=args.device)
    result = tagging.tag(loaded, args.text)
    if args.json:
        print(json.dumps(result.as_dict(), ensure_ascii=False))
        return 0
    if not result.entities:
        print("No entities found.")
    for e in result.entities:
        print(f"{e.label:12} {e.score:6.1%}  [{e.start}:{e.end}] {e.text}")
    return 0
