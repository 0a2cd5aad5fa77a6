"""Every task's own command (`studio generate`, `studio classify`, ...), built from its declaration.

A task says what its command is called, where the text comes from (--text or --prompt, a --file read
whole or line by line) and its own flags; the answer comes from the task, and its output kind puts it on
the terminal. A task from another package gets its command the same way.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import Any

from studio.cli.common import load_model, read_text, setting_flag
from studio.core.errors import ConfigError
from studio.core.tasks import registry


def register(commands: Any) -> None:
    seen: set[str] = set()
    for task in registry.all_tasks():
        command = task.command
        if command.name in seen:  # tasks whose models answer alike share one (a preference run chats)
            continue
        seen.add(command.name)
        pair = f" {command.pair_flag} TEXT" if command.pair_flag else ""
        example = f"Example: studio {command.name} --model RUN {command.text_flag} {shlex.quote(command.example)}{pair}" \
            if command.example else None
        p = commands.add_parser(command.name, help=command.help, description=command.description or None,
                                epilog=example)
        p.add_argument("--model", required=True, metavar="DIR", help="a run folder, a model folder or a hub id")
        if command.conversation:
            p.add_argument(command.text_flag, dest="text", action="append", metavar="TEXT",
                           help="the user's next turn (repeat for more; none: an interactive chat on a terminal)")
            p.add_argument("--system", metavar="TEXT", help="a system prompt that opens the conversation")
        elif command.file:
            source = p.add_mutually_exclusive_group(required=True)
            source.add_argument(command.text_flag, dest="text", help=f"the {task.playground.input_title.lower()}")
            source.add_argument("--file", metavar="F", help="answer every non-empty line of this UTF-8 file"
                                if command.file == "lines" else "read the text from this UTF-8 file")
        else:
            p.add_argument(command.text_flag, dest="text", required=True,
                           help=f"the {task.playground.input_title.lower()}")
        if command.pair_flag:
            p.add_argument(command.pair_flag, dest="pair", required=True, metavar="TEXT",
                           help=f"the {task.playground.pair_title.lower() or 'second text'} the model reads with it")
        for option in command.options:
            setting_flag(p, option, default=option.default)
        p.add_argument("--device", default="auto", help="auto, cuda, mps or cpu (default: auto)")
        p.add_argument("--json", action="store_true", help=(command.json_help or None) and
                       command.json_help.replace("%", "%%"))
        p.set_defaults(func=lambda args, task=task: answer(args, task))


def answer(args: argparse.Namespace, task: Any) -> int:
    from studio.core.tasks.base import Request

    command = task.command
    options = {o.name: getattr(args, o.name) for o in command.options}
    for option in command.options:
        option.check(options[option.name])
    lines = getattr(args, "file", None) is not None and command.file == "lines"
    if command.conversation:
        task.check_options(options)
        return converse(args, task, options)
    if lines:
        texts = [line for line in read_text(Path(args.file).expanduser()).splitlines() if line.strip()]
        if not texts:
            raise ConfigError(f"'{args.file}' has no lines of text; give a file with one text per line.")
    text = args.text if args.text is not None or lines else read_text(Path(args.file).expanduser())
    task.check_options(options)
    loaded = load_model(args.model, args.device)
    registry.check_serves(task, loaded)
    kind = task.output
    if lines:
        for result in task.answer_each(loaded, texts, options):
            print(json.dumps({"text": result.text, **result.as_dict()}, ensure_ascii=False) if args.json
                  else kind.row(result) if kind.row else "\n".join(kind.lines(result)))
        return 0
    on_token = None
    if kind.streamed and not args.json and options.get("num_beams", 1) == 1:
        if task.playground.echo_input:
            print(text, end="", flush=True)

        def on_token(token: Any) -> None:
            print(token.text, end="", flush=True)

    result = task.answer(loaded, Request(text, pair=getattr(args, "pair", None) or "", options=options),
                         on_token=on_token)
    if args.json:
        print(json.dumps(result.as_dict(), ensure_ascii=False))
    elif on_token is not None:
        print()
    else:
        print("\n".join(kind.lines(result)))
    return 0


def converse(args: argparse.Namespace, task: Any, options: dict[str, Any]) -> int:
    """A conversation: each --message answered in turn, or, without any, turns read from a terminal."""
    from studio.core.tasks.base import Request

    turns = list(args.text or [])
    if any(not turn.strip() for turn in turns):
        raise ConfigError(f"A {task.command.text_flag} is empty, so there is nothing to answer; give each one a few "
                          "words.")
    if not turns and not sys.stdin.isatty():
        raise ConfigError("Give the user's turns with --message TEXT (repeat it for more); an interactive chat "
                          "needs a terminal.")
    loaded = load_model(args.model, args.device)
    registry.check_serves(task, loaded)
    history: list[dict[str, str]] = [{"role": "system", "content": args.system}] if args.system else []
    stream = not args.json

    def on_token(token: Any) -> None:
        print(token.text, end="", flush=True)

    for text in turns or _typed_turns():
        if stream and turns:
            print(f"> {text}")
        result = task.answer(loaded, Request(text, options=options, history=tuple(history)),
                             on_token=on_token if stream else None)
        if stream:
            print("\n")
        history += [{"role": "user", "content": text}, {"role": "assistant", "content": result.text}]
    if args.json:
        print(json.dumps({"messages": history}, ensure_ascii=False))
    return 0


def _typed_turns() -> Any:
    """The lines a person types at the prompt, until Ctrl-D (or Ctrl-C)."""
    while True:
        try:
            text = input("> ")
        except (EOFError, KeyboardInterrupt):
            print()
            return
        if text.strip():
            yield text
