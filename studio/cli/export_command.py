"""`studio export`: a model to a folder, a GGUF file, an Ollama folder or the Hub, saying first what it writes."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

_EVERY_S = 1.0  # a progress line a second at most


def register(commands: Any) -> None:
    from studio.core.export import exporter, to_gguf

    formats = "; ".join(f"{name}: {what}" for name, what in exporter.FORMATS.items())
    p = commands.add_parser("export", help="export a model for llama.cpp, Ollama, LM Studio or the Hub",
                            description=f"Formats: {formats}.")
    p.add_argument("--model", required=True, metavar="MODEL", help="a run folder, a checkpoint, a model folder, a "
                   "GGUF file or a hub id")
    p.add_argument("--format", required=True, dest="fmt", metavar="FORMAT", help=", ".join(exporter.FORMATS))
    p.add_argument("--out", required=True, metavar="PATH", help="the folder (hf, ollama), the .gguf file or a "
                   "folder for it (gguf), or the repository id NAMESPACE/NAME (hub)")
    p.add_argument("--quant", metavar="Q", help=f"the GGUF file's weights: {', '.join(to_gguf.QUANTS)} "
                   f"(default {exporter.DEFAULT_QUANT})")
    p.add_argument("--overwrite", action="store_true", help="replace what is at --out")
    p.add_argument("--public", action="store_true", help="make a new Hub repository public (default: private)")
    p.set_defaults(func=export)


def export(args: argparse.Namespace) -> int:
    from studio.core.export import exporter

    planned = exporter.plan(args.model, args.fmt, args.out, args.quant, overwrite=args.overwrite, public=args.public)
    for line in planned.describe():
        print(f"studio: {line}", file=sys.stderr, flush=True)
    last = [0.0]

    def progress(stage: str, fraction: float | None) -> None:
        now = time.monotonic()
        if now - last[0] >= _EVERY_S or fraction == 1.0:
            last[0] = now
            shown = "" if fraction is None else f" {fraction:.0%}"
            print(f"studio: {stage}{shown}", file=sys.stderr, flush=True)

    result = exporter.run(planned, progress=progress)
    print(result.message, file=sys.stderr)
    if result.command:
        print(f"Make it an Ollama model with: {result.command}", file=sys.stderr)
    for path in result.paths:
        print(path)
    return 0
