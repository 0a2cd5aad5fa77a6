"""Where a run keeps what: the folder layout, and the questions answered from the folder alone (its
checkpoints, the run a model folder belongs to, its saved settings, a fresh folder's name).

    RUN/config.toml          the settings (TOML), written atomically
    RUN/metrics.sqlite       meta (status, steps, ...), metrics (step, name, value, time) and reports
                             (an evaluation's JSON findings, such as a confusion matrix), WAL mode
    RUN/tokenizer/           the tokenizer the run trains with
    RUN/checkpoints/checkpoint-N/   complete checkpoints only (written elsewhere, renamed into place)
    RUN/model/               the final model and tokenizer (save_pretrained, safetensors)
    RUN/adapter/             a LoRA run's adapter alone (model/ holds it merged into the base)
    RUN/tensorboard/         the same metrics as TensorBoard event files, when tensorboard is installed

`writer` writes the metrics store, `reader` reads it.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from studio.core.errors import RunError
from studio.core.system import gguf

CONFIG_FILE = "config.toml"
METRICS_FILE = "metrics.sqlite"
CHECKPOINTS = "checkpoints"
MODEL = "model"
ADAPTER = "adapter"  # a LoRA run's adapter alone; model/ holds it merged into the base
TOKENIZER = "tokenizer"
TENSORBOARD = "tensorboard"  # event files, when tensorboard is installed
_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")


def checkpoints(run_dir: Path) -> list[tuple[int, Path]]:
    """Complete checkpoints, oldest first. Half-written ones never carry the final name."""
    folder = run_dir / CHECKPOINTS
    if not folder.is_dir():
        return []
    found = []
    for child in folder.iterdir():
        match = _CHECKPOINT.match(child.name)
        if match and child.is_dir() and (child / "trainer_state.json").is_file():
            found.append((int(match.group(1)), child))
    return sorted(found)


def latest_checkpoint(run_dir: Path) -> tuple[int, Path] | None:
    found = checkpoints(run_dir)
    return found[-1] if found else None


def is_run(path: Path) -> bool:
    """A run folder: its metrics store, or a config.toml with the [run] table Studio writes (another program's
    config.toml is not a run: taken for one, a folder above an export was refused as a run's part)."""
    import tomllib

    if (path / METRICS_FILE).is_file():
        return True
    try:
        return "run" in tomllib.loads((path / CONFIG_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return False


def model_source(name: str) -> str:
    """What to load for `name`: a run folder stands for its final model, or its latest checkpoint while it
    has none yet; a GGUF file for the model folder it imports to (the first time, slowly: call this off the
    UI thread); anything else (a model folder, a hub id) is returned as it is."""
    if gguf.is_gguf(name):
        return str(gguf.imported(Path(name)))
    path = Path(name).expanduser()
    if path.is_dir() and is_run(path):
        if (path / MODEL / "config.json").is_file():
            return str(path / MODEL)
        latest = latest_checkpoint(path)
        if latest is None:
            raise RunError(f"The run '{path.name}' has no model or checkpoint yet; wait for its first "
                           "checkpoint or pick another run.")
        return str(latest[1])
    return name


def base_of(model: str) -> dict[str, Any] | None:
    """The run a model to train from belongs to (a run folder, its model/ or one of its checkpoints)."""
    path = Path(model).expanduser()
    if not path.is_dir():
        return None
    source = Path(model_source(str(path)))
    run = run_of(source)
    if run is None:
        return None
    step = _CHECKPOINT.match(source.name)
    return {"run": run.name, "path": str(run), "step": int(step.group(1)) if step else None}


def short_name(source: str) -> str:
    """What a person calls a model by its path alone: "RUN · step N" for a checkpoint, else the folder's name."""
    path = Path(source)
    step = _CHECKPOINT.match(path.name)
    if step and path.parent.name == CHECKPOINTS:
        return f"{path.parent.parent.name} · step {int(step.group(1)):,}"
    return path.name or source


def run_of(model_dir: str | Path) -> Path | None:
    """The run a model folder belongs to (RUN/model or RUN/checkpoints/checkpoint-N), if any."""
    path = Path(model_dir)
    for candidate in (path, path.parent, path.parent.parent):
        if (candidate / CONFIG_FILE).is_file():
            return candidate
    return None


def read_config(run_dir: Path) -> dict[str, Any]:
    """The run's settings as saved (the [run] table of its config.toml); empty if unreadable."""
    import tomllib

    try:
        values = tomllib.loads((run_dir / CONFIG_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return values.get("run", values)


_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}_\d{6}-")


def new_run_dir(root: Path, model: str, task: str) -> Path:
    """A fresh, unused run folder name such as 2026-11-22_153012-gpt-tiny-lm. A run that continues another is
    named after that run without its start time (…-SmolLM2-135M-Instruct-chat-prefer), not with two stamps."""
    stamp = time.strftime("%Y-%m-%d_%H%M%S")
    path = Path(model).expanduser()
    run = run_of(path) if path.is_dir() else None
    named = _STAMP.sub("", run.name) if run is not None else path.stem if gguf.is_gguf(model) else path.name
    base = f"{stamp}-{re.sub(r'[^A-Za-z0-9_.-]+', '-', named or model)}-{task}"
    candidate, n = root / base, 1
    while candidate.exists():
        n += 1
        candidate = root / f"{base}-{n}"
    return candidate
