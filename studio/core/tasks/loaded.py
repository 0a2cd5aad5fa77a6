"""Loading a trained model and its tokenizer for generation, summarization or attention."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.core.system import device as devices
from studio.core.modeling import models
from studio.core.runs import store as runs
from studio.core.errors import ModelError
from studio.core.system.quiet import quiet_transformers
from studio.core.data.tokenizer import load_tokenizer


@dataclass
class LoadedModel:
    model: Any
    tokenizer: Any
    task: str  # "lm" or "summarize"
    device: str
    source: str

    @property
    def max_positions(self) -> int:
        # relative-position models (T5) have no hard limit; 512 keeps attention maps a sane size
        return models.max_positions(self.model.config) or 512


def resolve_model_dir(name: str) -> str:
    """A run folder stands for its final model, or its latest checkpoint while it has none yet."""
    path = Path(name).expanduser()
    if path.is_dir() and runs.is_run(path):
        if (path / runs.MODEL / "config.json").is_file():
            return str(path / runs.MODEL)
        latest = runs.latest_checkpoint(path)
        if latest is None:
            raise ModelError(f"The run '{path.name}' has no model or checkpoint yet; wait for its first "
                             "checkpoint or pick another run.")
        return str(latest[1])
    return name


def load(name: str, *, device: str = "auto", attn_implementation: str | None = None,
         trust_remote_code: bool = False) -> LoadedModel:
    """Load a model folder, run folder or hub id, in eval mode, on `device`."""
    source = resolve_model_dir(name)
    with quiet_transformers():
        model = models.load_pretrained(source, trust_remote_code=trust_remote_code,
                                       attn_implementation=attn_implementation)
    tokenizer = load_tokenizer(source, trust_remote_code=trust_remote_code)
    chosen = devices.pick_device(device)
    model.to(chosen).eval()
    return LoadedModel(model, tokenizer, models.task_of_config(model.config), chosen, source)
