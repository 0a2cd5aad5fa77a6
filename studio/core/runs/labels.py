"""What a person calls a run and writes about it: a title and notes, kept beside the run's data.

The folder keeps its name: other runs record where they started by its path, and the window's lists
remember it. A separate small file, written atomically, so a label never touches a run's metrics while
it trains.
"""

from __future__ import annotations

import json
from pathlib import Path

from studio.core.system.files import atomic_write_text

LABEL_FILE = "label.json"


def read_label(run_dir: Path) -> tuple[str, str]:
    """(title, notes); empty strings when the run has none or the file cannot be read."""
    try:
        values = json.loads((run_dir / LABEL_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "", ""
    if not isinstance(values, dict):
        return "", ""
    return str(values.get("title", "")), str(values.get("notes", ""))


def set_label(run_dir: Path, *, title: str | None = None, notes: str | None = None) -> None:
    """Change the title, the notes or both; what is not given stays."""
    old_title, old_notes = read_label(run_dir)
    values = {"title": (old_title if title is None else title).strip(), "notes": old_notes if notes is None else notes}
    atomic_write_text(run_dir / LABEL_FILE, json.dumps(values, ensure_ascii=False, indent=1))
