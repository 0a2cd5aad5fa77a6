"""`studio runs`, `generate`, `summarize`, `attention` and `tokenizer`: everything but training."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from studio.core.runs import store as runs
from studio.core.system import workspace
from studio.core.errors import ConfigError, DataError, RunError


def register(commands: Any) -> None:
    _register_runs(commands)
    _register_generation(commands)
    p = commands.add_parser("attention", help="save a model's attention weights for a text as .npz")
    p.add_argument("--model", required=True, metavar="DIR")
    p.add_argument("--text", required=True)
    p.add_argument("--target", help="the decoder text for encoder-decoder models (default: the model's own "
                   "greedy output)")
    p.add_argument("--out", required=True, metavar="FILE.npz")
    p.add_argument("--device", default="auto")
    p.set_defaults(func=attention)
    tok = commands.add_parser("tokenizer", help="train a byte-level BPE tokenizer")
    tok_commands = tok.add_subparsers(dest="tokenizer_command", required=True, metavar="COMMAND")
    p = tok_commands.add_parser("train", help="train a tokenizer on a file, folder or sample")
    p.add_argument("--data", required=True, metavar="PATH|sample:NAME")
    p.add_argument("--vocab-size", type=int, default=4096, metavar="N")
    p.add_argument("--out", required=True, metavar="DIR")
    p.add_argument("--text-column", metavar="C", help="the column to learn from (default: guessed)")
    p.set_defaults(func=tokenizer_train)


def _register_runs(commands: Any) -> None:
    p = commands.add_parser("runs", help="list runs, or show one (works while it trains)")
    sub = p.add_subparsers(dest="runs_command", required=True, metavar="COMMAND")
    ls = sub.add_parser("list", help="the runs in the workspace, newest first")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=runs_list)
    show = sub.add_parser("show", help="one run: status, steps, checkpoints, metric history")
    show.add_argument("run", metavar="RUN_DIR", help="a run folder, or the name of a run in the workspace")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=runs_show)


def _register_generation(commands: Any) -> None:
    p = commands.add_parser("generate", help="continue a prompt with a trained model (streams tokens)")
    p.add_argument("--model", required=True, metavar="DIR", help="a model folder, a run folder or a hub id")
    p.add_argument("--prompt", required=True)
    _sampling_flags(p, beams=1, max_new=64)
    p.set_defaults(func=generate)
    p = commands.add_parser("summarize", help="summarize a text with an encoder-decoder model")
    p.add_argument("--model", required=True, metavar="DIR")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--text")
    source.add_argument("--file", metavar="F")
    _sampling_flags(p, beams=4, max_new=64)
    p.add_argument("--length-penalty", type=float, default=1.0, help=">1 favours longer summaries (beams only)")
    p.add_argument("--min-new-tokens", type=int, default=0)
    p.add_argument("--no-repeat-ngram-size", type=int, default=3)
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


def _root(args: argparse.Namespace) -> Path:
    return workspace.runs_dir(workspace.workspace(args.workspace))


def runs_list(args: argparse.Namespace) -> int:
    found = runs.list_runs(_root(args))
    if args.json:
        print(json.dumps([r.as_dict(with_history=False) for r in found], indent=2))
        return 0
    if not found:
        print(f"No runs yet in {_root(args)}; start one with 'studio train'.", file=sys.stderr)
        return 0
    print(f"{'RUN':44} {'STATUS':10} {'STEP':>11} {'TRAIN':>7} {'VAL':>7}")
    for r in found:
        step = f"{r.global_step}/{r.planned_steps}"
        print(f"{r.name:44} {r.status:10} {step:>11} {_fmt(r.last.get('train_loss'))} {_fmt(r.last.get('eval_loss'))}")
    return 0


def _fmt(value: float | None) -> str:
    return f"{value:7.3f}" if isinstance(value, float) else f"{'-':>7}"


def _find_run(args: argparse.Namespace) -> Path:
    path = Path(args.run).expanduser()
    if path.is_dir():
        return path
    named = _root(args) / args.run
    if named.is_dir():
        return named
    raise RunError(f"There is no run '{args.run}'; give a run folder, or a name from 'studio runs list'.")


def runs_show(args: argparse.Namespace) -> int:
    info = runs.read(_find_run(args))
    if args.json:
        print(json.dumps(info.as_dict(), indent=2))
        return 0
    print(f"{info.name}: {info.status}, step {info.global_step} of {info.planned_steps} ({info.task}, {info.model}, "
          f"{info.data})")
    if info.error:
        print(f"error: {info.error}")
    for key, value in sorted(info.last.items()):
        print(f"  {key:20} {value if value is None else f'{value:.6g}'}")
    print(f"checkpoints: {', '.join(str(c['step']) for c in info.checkpoints) or 'none'}")
    print(f"model: {info.model_dir or 'not exported yet'}")
    return 0


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
    if on_token:
        print(args.prompt, end="", flush=True)
    result = generation.generate(loaded, args.prompt, sampling, on_token=on_token)
    _print_result(args, result, on_token is not None)
    return 0


def summarize(args: argparse.Namespace) -> int:
    from studio.core.playground import generation
    from studio.core.tasks import loaded as inference

    text = args.text if args.text is not None else _read_text(Path(args.file).expanduser())
    sampling = _sampling(args)
    sampling.check()
    loaded = inference.load(args.model, device=args.device)
    on_token = _stream(args)
    result = generation.summarize(loaded, text, sampling, on_token=on_token)
    _print_result(args, result, on_token is not None)
    return 0


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"'{path}' does not exist; check the path.") from None
    except UnicodeDecodeError:
        raise DataError(f"'{path.name}' is not UTF-8 text; save it as UTF-8 and try again.") from None


def attention(args: argparse.Namespace) -> int:
    from studio.core.attention import extract as attn
    from studio.core.tasks import loaded as inference

    out = Path(args.out).expanduser()
    if out.suffix != ".npz":
        raise ConfigError(f"--out must end in .npz (got '{out.name}').")
    loaded = inference.load(args.model, device=args.device, attn_implementation="eager")
    result = attn.extract(loaded, args.text, args.target)
    result.save_npz(out)
    shapes = ", ".join(f"{k} {tuple(v.shape)}" for k, v in result.arrays().items() if v.ndim > 1)
    print(f"Saved {out} ({shapes}).", file=sys.stderr)
    return 0


def tokenizer_train(args: argparse.Namespace) -> int:
    from studio.core.data import sources as data
    from studio.core.data.tokenizer import check_vocab_size, save_tokenizer, train_bpe

    check_vocab_size(args.vocab_size)
    out = Path(args.out).expanduser()
    if out.exists() and any(out.iterdir()) and not (out / "tokenizer.json").exists():
        raise ConfigError(f"'{out}' holds other files; choose an empty or new folder for the tokenizer.")
    cache = workspace.cache_dir(workspace.workspace(args.workspace))
    ds = data.load(args.data, cache)
    columns = _tokenizer_columns(ds, args.text_column)
    started = time.perf_counter()
    tokenizer = train_bpe(data.iter_texts(ds, columns), args.vocab_size, total=len(ds) * len(columns))
    save_tokenizer(tokenizer, out)
    print(f"Trained a {len(tokenizer)}-token tokenizer on {len(ds)} rows in {time.perf_counter() - started:.1f} s; "
          f"saved to {out}.", file=sys.stderr)
    return 0


def _tokenizer_columns(ds: Any, wanted: str | None) -> list[str]:
    from studio.core.data import sources as data

    if wanted:
        return [data.map_columns(ds, "lm", data.ColumnMap(text=wanted)).text]
    try:
        return [data.map_columns(ds, "lm", data.ColumnMap()).text]
    except DataError:
        pair = data.map_columns(ds, "summarize", data.ColumnMap())
        return [pair.source, pair.target]
