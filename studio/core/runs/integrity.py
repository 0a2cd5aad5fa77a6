"""Whether a checkpoint's files are whole, judged from the files alone and without loading them: a safetensors
file must be as long as its header says, and torch's own files (optimizer, scheduler, random state) are zip
archives whose directory sits at their end, so one cut short has none. A disk that filled up, or a copy that
stopped halfway, leaves a checkpoint that carries its final name but cannot be resumed; this finds it before
Trainer does (with a traceback), so resuming can step back to the newest whole one."""

from __future__ import annotations

import json
import shutil
import struct
import zipfile
from pathlib import Path

from studio.core.runs import layout

BROKEN = "checkpoints-broken"  # a run's broken checkpoints are moved here, never deleted


def problem(checkpoint: Path) -> str | None:
    """What is wrong with a checkpoint folder ("optimizer.pt is cut short"), or None when its files are whole."""
    for path in sorted(checkpoint.iterdir()):
        if not path.is_file():
            continue
        if path.suffix == ".safetensors" and not _whole_safetensors(path):
            return f"{path.name} is cut short"
        if path.suffix in (".pt", ".pth", ".bin") and not zipfile.is_zipfile(path):
            return f"{path.name} is cut short"
        if path.suffix == ".json":
            try:
                json.loads(path.read_text(encoding="utf-8"))
            except (ValueError, UnicodeDecodeError):
                return f"{path.name} is not readable JSON"
    return None


def _whole_safetensors(path: Path) -> bool:
    size = path.stat().st_size
    try:
        with open(path, "rb") as f:
            (header_len,) = struct.unpack("<Q", f.read(8))
            if header_len > size - 8:
                return False
            header = json.loads(f.read(header_len))
    except (struct.error, ValueError, UnicodeDecodeError):
        return False
    end = max((t["data_offsets"][1] for k, t in header.items() if k != "__metadata__"), default=0)
    return size == 8 + header_len + end


def newest_whole(run_dir: Path) -> tuple[tuple[int, Path] | None, list[str]]:
    """The newest checkpoint whose files are whole, and a sentence for each newer one found broken, which is
    moved aside to checkpoints-broken/ (kept for the person to look at)."""
    notes = []
    for step, path in reversed(layout.checkpoints(run_dir)):
        wrong = problem(path)
        if wrong is None:
            return (step, path), notes
        aside = run_dir / BROKEN / path.name
        aside.parent.mkdir(exist_ok=True)
        shutil.rmtree(aside, ignore_errors=True)
        path.rename(aside)
        notes.append(f"Checkpoint {step} is broken ({wrong}); it was moved to {BROKEN}/{path.name} and the run "
                     "resumes from the checkpoint before it.")
    return None, notes
