"""The `studio` command: the window when run alone, the command line when given a command.

Kept apart from `studio.cli` so the command line never imports Qt (DESIGN.md layers).
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args:
        from studio.ui.app import run

        return run()
    from studio.cli import main as cli_main

    return cli_main(args)
