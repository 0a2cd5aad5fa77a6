"""`studio models search|info|download|list|remove`: the Hub's models and the ones on this machine."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

_EVERY_S = 1.0  # a progress line a second at most


def register(commands: Any) -> None:
    from studio.core.tasks import registry

    tasks = ", ".join(registry.tasks())
    p = commands.add_parser("models", help="search the Hugging Face Hub, check a model's memory, download it, and "
                            "manage the models on this machine")
    sub = p.add_subparsers(dest="models_command", required=True, metavar="ACTION")

    s = sub.add_parser("search", help="models on the Hub whose id contains TEXT, most downloaded first")
    s.add_argument("text", metavar="TEXT")
    s.add_argument("--task", metavar="TASK", help=f"only models this task can start from ({tasks})")
    s.add_argument("--limit", type=_positive, default=20, metavar="N", help="at most N models (20)")
    s.add_argument("--json", action="store_true", help="print a JSON list")
    s.set_defaults(func=search)

    i = sub.add_parser("info", help="a model's files, licence and the memory it needs here, before downloading")
    i.add_argument("id", metavar="ID")
    i.add_argument("--task", metavar="TASK", help="the task to size training for (default: what the model is for)")
    i.add_argument("--revision", metavar="R", help="a branch, tag or commit (default main)")
    i.add_argument("--json", action="store_true", help="print a JSON object")
    i.set_defaults(func=info)

    d = sub.add_parser("download", help="download a model into the Hugging Face cache (resumes a download left "
                       "part-way)")
    d.add_argument("id", metavar="ID")
    d.add_argument("--revision", metavar="R", help="a branch, tag or commit (default main)")
    d.add_argument("--include", action="append", metavar="GLOB", help="only the files matching GLOB (repeatable; "
                   "default: the weights in one format, with the config and tokenizer)")
    d.set_defaults(func=download)

    li = sub.add_parser("list", help="the models in the cache and in the folders added in the Models view")
    li.add_argument("--json", action="store_true", help="print a JSON list")
    li.set_defaults(func=list_models)

    r = sub.add_parser("remove", help="delete a model from the cache")
    r.add_argument("id", metavar="ID")
    r.add_argument("--yes", action="store_true", help="do not ask first")
    r.set_defaults(func=remove)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not 1 or more")
    return value


def _task(name: str | None) -> Any:
    from studio.core.tasks import registry

    return registry.get(name) if name else None


def search(args: argparse.Namespace) -> int:
    from studio.core.hub.search import search as find
    from studio.core.system import sizes

    task = _task(args.task)
    found = find(args.text, task.hub_tags if task else (), args.limit)
    if args.json:
        print(json.dumps([f.as_json() for f in found], indent=1))
        return 0
    if not found:
        print(f"studio: no model on the Hub matches '{args.text}'" + (f" for {task.title.lower()}" if task else "")
              + ".", file=sys.stderr)
        return 0
    rows = [("ID", "DOWNLOADS", "LIKES", "UPDATED", "PARAMS", "LICENSE", "GATED")]
    rows += [(f.id, f"{f.downloads:,}", f"{f.likes:,}", f.updated[:10], sizes.parameters(f.parameters) or "-",
              f.license or "-", "yes" if f.gated else "") for f in found]
    _table(rows)
    return 0


def _table(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())


def info(args: argparse.Namespace) -> int:
    from studio.core.hub import page as pages
    from studio.core.system import sizes
    from studio.core.tasks import registry
    from studio.core.training import fit as fits

    page = pages.read(args.id, args.revision)
    fit, task = (fits.of_config_json(page.config, page.config_from, args.task) if page.config else (None, None))
    if args.json:
        memory = fit.as_json() if fit else {"run_bytes": None, "train_bytes": None, "device": None}
        print(json.dumps({"id": page.id, "parameters": fit.parameters if fit else page.parameters,
                          "files": [{"name": f.name, "size": f.size} for f in page.files], "memory": memory,
                          "gated": page.gated, "license": page.license}, indent=1))
        return 0
    print(f"{page.id}  ({page.pipeline_tag or 'no task named'}; licence {page.license or 'not given'}"
          f"{'; gated: accept its terms on the Hub first' if page.gated else ''})")
    print(f"{page.downloads:,} downloads, {page.likes:,} likes, updated {page.updated[:10]}")
    print(f"\nFiles ({len(page.files)}, {sizes.text(page.size)}):")
    for f in page.files:
        print(f"  {f.name}  {sizes.text(f.size)}")
    if page.variants:
        print("\nVariants:")
        for v in page.variants:
            print(f"  {v.title}  {sizes.text(v.size)}  (--include {' --include '.join(v.include[:1])})")
    if fit is None:
        print("\nThe memory check needs the model's config.json, which neither it nor its base model has"
              + (" that can be read without access: give a token that has it." if page.gated else "."))
    else:
        source = "" if page.config_from == page.id else f" (from its base model {page.config_from})"
        print(f"\nFor {registry.get(task).title.lower()}{source}: {fit.summary()}")
    return 0


def download(args: argparse.Namespace) -> int:
    from studio.core.control import Control
    from studio.core.errors import Cancelled
    from studio.core.hub import download as downloads
    from studio.core.hub import local
    from studio.core.system import sizes

    planned = downloads.plan(args.id, args.revision, args.include)
    left = planned.total - planned.have
    print(f"studio: {args.id}: {len(planned.files)} files, {sizes.text(planned.total)}"
          + (f" ({sizes.text(planned.have)} already here)" if planned.have else "")
          + f", into {downloads.cache_root()}", file=sys.stderr, flush=True)
    local.remember(args.id, args.revision, args.include)
    last = [0.0]

    def progress(p: downloads.Progress) -> None:
        now = time.monotonic()
        if now - last[0] >= _EVERY_S or p.done == p.total:
            last[0] = now
            print(f"studio: {downloads.as_text(p)}", file=sys.stderr, flush=True)

    control = Control()
    try:
        folder = downloads.download(planned, progress if left else None, control)
    except KeyboardInterrupt:
        raise Cancelled(f"The download of {args.id} was interrupted; what was fetched is kept, and the same "
                        "command continues from there.") from None
    local.forget(args.id)
    print(f"studio: {args.id} is complete ({sizes.text(planned.total)}).", file=sys.stderr)
    print(folder)
    return 0


def list_models(args: argparse.Namespace) -> int:
    from studio.core.hub import download as downloads
    from studio.core.hub import local
    from studio.core.system import sizes

    found = local.everything()
    if args.json:
        print(json.dumps([m.as_json() for m in found], indent=1))
        return 0
    if not found:
        print(f"studio: no models in {downloads.cache_root()} yet; `studio models download ID` fetches one.",
              file=sys.stderr)
        return 0
    rows = [("ID", "SIZE", "LAST USED", "PATH")]
    rows += [(m.id, sizes.text(m.size_bytes) + (" (part-way)" if m.partial_bytes else ""), (m.last_used or "-")[:10], m.path)
             for m in found]
    _table(rows)
    print(f"\n{len(found)} models, {sizes.text(sum(m.size_bytes for m in found))}", file=sys.stderr)
    return 0


def remove(args: argparse.Namespace) -> int:
    from studio.core.errors import HubError
    from studio.core.hub import local
    from studio.core.system import sizes

    found = next((m for m in local.cached() if m.id == args.id), None)
    if found is not None and not args.yes:
        if not sys.stdin.isatty():
            raise HubError(f"Removing {args.id} ({sizes.text(found.size_bytes)}) needs a yes: run it in a terminal "
                           "to be asked, or add --yes.")
        answer = input(f"Remove {args.id} ({sizes.text(found.size_bytes)}) from the cache? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("studio: kept.", file=sys.stderr)
            return 1
    freed = local.remove(args.id)
    print(f"studio: removed {args.id} ({sizes.text(freed)} freed).", file=sys.stderr)
    return 0
