"""`studio classify`: a trained classifier's label for a text, with every label's probability."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from studio.cli.common import read_text


def register(commands: Any) -> None:
    p = commands.add_parser("classify", help="the label a trained classifier gives a text, and each label's "
                            "probability", description="Classify a text (--text), or each line of a file (--file).")
    p.add_argument("--model", required=True, metavar="DIR", help="a classifier: a run folder, model folder or hub id")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--text")
    source.add_argument("--file", metavar="F", help="classify every non-empty line of this UTF-8 file")
    p.add_argument("--batch-size", type=int, default=32, metavar="N", help="texts per forward pass with --file")
    p.add_argument("--device", default="auto")
    p.add_argument("--json", action="store_true", help='print {"label", "score", "scores": {label: probability}} '
                   "(one object per line with --file)")
    p.set_defaults(func=classify)


def classify(args: argparse.Namespace) -> int:
    from studio.core.errors import ConfigError
    from studio.core.playground import classification
    from studio.core.tasks import loaded as inference

    if args.batch_size < 1:
        raise ConfigError(f"--batch-size {args.batch_size} is impossible; it must be at least 1.")
    texts = [args.text] if args.text is not None else \
        [line for line in read_text(Path(args.file).expanduser()).splitlines() if line.strip()]
    if not texts:
        raise ConfigError(f"'{args.file}' has no lines of text to classify.")
    loaded = inference.load(args.model, device=args.device)
    if args.text is not None:
        predictions = [classification.classify(loaded, args.text)]
    else:
        predictions = classification.classify_many(loaded, texts, batch_size=args.batch_size)
    for prediction in predictions:
        if args.json:
            extra = {"text": prediction.text} if args.file else {}
            print(json.dumps({**extra, **prediction.as_dict()}, ensure_ascii=False))
        else:
            _print(prediction, several=args.file is not None)
    return 0


def _print(prediction: Any, several: bool) -> None:
    if several:
        print(f"{prediction.label}\t{prediction.score:.4f}\t{prediction.text}")
        return
    print(f"{prediction.label} ({prediction.score:.1%})")
    for label, p in sorted(prediction.scores.items(), key=lambda item: -item[1]):
        print(f"  {label[:30]:30} {p:7.1%}  {'█' * round(p * 30)}", file=sys.stdout)
