"""Pieces the commands share: flags from settings and the task registry, reading text files, the workspace."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from studio.core.errors import ConfigError, DataError
from studio.core.runs import layout
from studio.core.settings import Setting
from studio.core.system import workspace
from studio.core.tasks import registry


def setting_flag(p: Any, setting: Setting, *, prefix: str = "", default: Any = None) -> None:
    """The flag of a setting: a switch for a yes/no setting, else a value parsed (and named) as declared.
    Flags not given are None, so a config file's values or a task's defaults stay under them."""
    help_text = (prefix + setting.help + _default_words(setting)).replace("%", "%%") or None
    if setting.kind == "bool":
        p.add_argument(setting.flag, dest=setting.name, action="store_true", default=default, help=help_text)
        return

    def parse(text: str) -> Any:
        try:
            return setting.parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = setting.kind  # argparse names the type in its error
    p.add_argument(setting.flag, dest=setting.name, type=parse, default=default, help=help_text,
                   metavar=setting.metavar or None, choices=setting.choices or None)


def _default_words(setting: Setting) -> str:
    """ " (default: 600)" after a flag's help, unless the help says it already or there is none to say."""
    if setting.kind == "bool" or setting.default in (None, "") or not setting.help:
        return ""
    shown = setting.shown(setting.default)
    return "" if f"({shown})" in setting.help or f"default: {shown}" in setting.help else f" (default: {shown})"


def column_flags(p: argparse.ArgumentParser) -> None:
    """`--text-column`, `--label-column`, ...: one flag for every column role any task reads."""
    for column in registry.column_roles():
        users = [t.name for t in registry.all_tasks() if column in t.columns]
        p.add_argument(column.flag, dest=column.field, metavar="C",
                       help=f"{column.help.lower()} ({', '.join(users)}; default: guessed)")


def given_columns(args: argparse.Namespace, task: Any) -> dict[str, str]:
    """The column flags given, for `task`; a flag the task does not read is an error, not ignored."""
    given = {c.role: getattr(args, c.field) for c in registry.column_roles() if getattr(args, c.field, None)}
    roles = {c.role for c in task.columns}
    stray = [c.flag for c in registry.column_roles() if c.role in given and c.role not in roles]
    if stray:
        flags = ", ".join(c.flag for c in task.columns)
        raise ConfigError(f"{stray[0]} does not apply: the model is a {task.title.lower()} model, which reads "
                          f"{flags}.")
    return given


def runs_root(args: argparse.Namespace) -> Path:
    return workspace.runs_dir(workspace.workspace(args.workspace))


def cache(args: argparse.Namespace) -> Path:
    return workspace.cache_dir(workspace.workspace(args.workspace))


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"'{path}' does not exist; check the path.") from None
    except IsADirectoryError:
        raise DataError(f"'{path}' is a folder; give a text file.") from None
    except UnicodeDecodeError:
        raise DataError(f"'{path.name}' is not UTF-8 text; save it as UTF-8 and try again.") from None


def load_model(name: str, device: str, **options: Any) -> Any:
    """`tasks.loaded.load`, saying first what a GGUF file's first import costs (it takes a while, once)."""
    from studio.core.system import gguf
    from studio.core.tasks import loaded as inference

    note = gguf.import_note(Path(name)) if gguf.is_gguf(name) else None
    if note:
        print(f"studio: {note}", file=sys.stderr, flush=True)
    loaded = inference.load(name, device=device, **options)
    chosen = Path(loaded.source)
    if chosen.parent.name == layout.CHECKPOINTS and Path(name).expanduser().resolve() == chosen.parent.parent.resolve():
        # a run still training (or stopped) has no final model: say which of its checkpoints answers
        print(f"studio: '{chosen.parent.parent.name}' has no final model yet; using its latest checkpoint, "
              f"{chosen.name}.", file=sys.stderr, flush=True)
    return loaded
