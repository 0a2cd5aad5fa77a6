"""A trained model loaded for use (generation, classification, attention, evaluation), knowing its task.

The task comes from the run the model belongs to (its config.toml), or else from the model's own
`config.architectures`; the model is then loaded with that task's auto class.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from studio.core.data.tokenizer import load_tokenizer
from studio.core.modeling import loading, shapes
from studio.core.runs import store as runs
from studio.core.system import device as devices
from studio.core.system.quiet import quiet_transformers
from studio.core.tasks import registry
from studio.core.tasks.base import Task


@dataclass
class LoadedModel:
    model: Any
    tokenizer: Any
    task: Task
    device: str
    source: str
    settings: dict[str, Any] = field(default_factory=dict)  # the run's config, when it came from a run

    @property
    def shape(self) -> str:
        return shapes.shape(self.model.config)

    @property
    def max_positions(self) -> int:
        # relative-position models (T5) have no hard limit; 512 keeps attention maps a sane size
        return loading.max_positions(self.model.config) or 512

    @property
    def input_limit(self) -> int:
        """The longest input to give the model: what its run trained on (positions past that never
        learned anything in a model trained from scratch), within what the model can read."""
        return min(int(self.settings.get("seq_len") or self.max_positions), self.max_positions)

    @property
    def labels(self) -> list[str]:
        """A classifier's label names, in id order."""
        id2label = self.model.config.id2label or {}
        return [str(id2label[i]) for i in sorted(id2label, key=int)]


def load(name: str, *, device: str = "auto", attn_implementation: str | None = None,
         trust_remote_code: bool = False) -> LoadedModel:
    """Load a model folder, run folder or hub id, in eval mode, on `device`."""
    source = runs.model_source(name)
    run = runs.run_of(source) if loading.is_local_model(source) else None
    settings = runs.read_config(run) if run is not None else {}
    config = loading.load_config(source, trust_remote_code=trust_remote_code)
    task = registry.for_model(config, settings.get("task"))
    with quiet_transformers():
        model, _ = loading.load_pretrained(source, task.auto_class, trust_remote_code=trust_remote_code,
                                           attn_implementation=attn_implementation, keep_adapter=True)
    tokenizer = load_tokenizer(source, trust_remote_code=trust_remote_code)
    chosen = devices.pick_device(device)
    model.to(chosen).eval()
    return LoadedModel(model, tokenizer, task, chosen, source, settings)
