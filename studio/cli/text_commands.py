"""`studio generate` and `studio summarize`: text from a trained model, streamed token by token."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from studio.cli.common import read_text
from studio.core.playground.sampling import SUMMARY_DEFAULTS


def register(commands: Any) -> None:
    p = commands.add_parser("generate", help="continue a prompt with a trained language model (streams tokens)")
    p.add_argument("--model", required=True, metavar="DIR", help="a model folder, a run folder or a hub id")
    p.add_argument("--prompt", required=True)
    _sampling_flags(p, beams=1, max_new=64)
    p.set_defaults(func=generate)
    p = commands.add_parser("summarize", help="summarize a text with an encoder-decoder model")
    p.add_argument("--model", required=True, metavar="DIR")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--text")
    source.add_argument("--file", metavar="F")
    _sampling_flags(p, beams=SUMMARY_DEFAULTS["num_beams"], max_new=64)
    p.add_argument("--length-penalty", type=float, default=1.0, help=">1 favours longer summaries (beams only)")
    p.add_argument("--min-new-tokens", type=int, default=0)
    p.add_argument("--no-repeat-ngram-size", type=int, default=SUMMARY_DEFAULTS["no_repeat_ngram_size"],
                   help="never repeat a run of this many tokens (0 is off)")
    p.set_defaults(func=summarize)


def _sampling_flags(p: argparse.ArgumentParser, beams: int, max_new: int) -> None:
    p.add_argument("--max-new-tokens", type=int, default=max_new)
    p.add_argument("--temperature", type=float, default=0.8)
    p.add_argument("--top-k", type=int, default=50)
    p.add_argument("--top-p", type=float, default=0.95)
    p.add_argument("--repetition-penalty", type=float, default=1.0)
    p.add_argument("--seed", type=int)
    p.add_argument("--greedy", action="store_true", help="always take the most likely token")
    p.add_argument("--num-beams", type=int, default=beams)
    p.add_argument("--device", default="auto")
    p.add_argument("--json", action="store_true", help="print text, tokens with log-probabilities, tokens/s")


def _sampling(args: argparse.Namespace) -> Any:
    from studio.core.playground.sampling import Sampling

    return Sampling(max_new_tokens=args.max_new_tokens, temperature=args.temperature, top_k=args.top_k,
                    top_p=args.top_p, repetition_penalty=args.repetition_penalty, seed=args.seed,
                    greedy=args.greedy, num_beams=args.num_beams,
                    length_penalty=getattr(args, "length_penalty", 1.0),
                    min_new_tokens=getattr(args, "min_new_tokens", 0),
                    no_repeat_ngram_size=getattr(args, "no_repeat_ngram_size", 0))


def _print_result(args: argparse.Namespace, result: Any, streamed: bool) -> None:
    if args.json:
        print(json.dumps(result.as_dict(), ensure_ascii=False))
    elif streamed:
        print()
    else:
        print(result.text)


def _stream(args: argparse.Namespace) -> Any:
    if args.json or args.num_beams > 1:
        return None
    return lambda token: print(token.text, end="", flush=True)


def generate(args: argparse.Namespace) -> int:
    from studio.core.playground import generation
    from studio.core.tasks import loaded as inference

    sampling = _sampling(args)
    sampling.check()
    loaded = inference.load(args.model, device=args.device)
    on_token = _stream(args)
    if on_token and loaded.task.playground.echo_input:
        print(args.prompt, end="", flush=True)
    result = generation.generate(loaded, args.prompt, sampling, on_token=on_token)
    _print_result(args, result, on_token is not None)
    return 0


def summarize(args: argparse.Namespace) -> int:
    from studio.core.playground import generation
    from studio.core.tasks import loaded as inference

    text = args.text if args.text is not None else read_text(Path(args.file).expanduser())
    sampling = _sampling(args)
    sampling.check()
    loaded = inference.load(args.model, device=args.device)
    on_token = _stream(args)
    result = generation.summarize(loaded, text, sampling, on_token=on_token)
    _print_result(args, result, on_token is not None)
    return 0
