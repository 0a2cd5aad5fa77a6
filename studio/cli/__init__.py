"""The `studio` command line: a stable, scriptable contract over `studio.core`.

Heavy libraries (torch, transformers) are imported inside the commands, so `studio --help` is instant.
Errors a person can cause print one sentence and exit 2; Ctrl-C during training exits 130.
"""

from __future__ import annotations

import argparse
import sys

from studio import __version__
from studio.core.errors import Cancelled, StudioError


class _Parser(argparse.ArgumentParser):
    """A mistyped flag is one sentence, not the usage page before it (argparse's way); --help has the page."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"studio: {message}; `{self.prog} --help` lists what it takes.\n")


def build_parser() -> argparse.ArgumentParser:
    from studio.cli import (
        attention_command,
        evaluate_command,
        export_command,
        models_command,
        runs_commands,
        task_commands,
        tokenizer_command,
        train_command,
    )

    parser = _Parser(prog="studio", description="Train, run and look inside transformer "
                                     "language models on your own machine.")
    parser.add_argument("--version", action="version", version=f"studio {__version__}")
    parser.add_argument("--workspace", metavar="DIR", help="where runs and caches live (default: "
                        "$STUDIO_WORKSPACE or your user data folder)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (train_command, runs_commands, task_commands, evaluate_command, attention_command,
                   tokenizer_command, export_command, models_command):
        module.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    from studio.core.tasks import registry

    for problem in registry.problems():  # an installed task that could not be loaded; the rest work
        print(f"studio: {problem}", file=sys.stderr)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a mistyped flag (said in a sentence by _Parser)
        return int(exc.code or 0)
    from studio.core.system import workspace

    try:
        with workspace.chosen(args.workspace):  # every cache a command fills is the chosen workspace's
            return int(args.func(args) or 0)
    except Cancelled as exc:  # Ctrl-C before the first step: nothing to save
        print(f"studio: {exc}", file=sys.stderr)
        return 130
    except StudioError as exc:
        print(f"studio: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("studio: interrupted.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
