"""A trained model loaded for use (generation, classification, attention, evaluation), with its tokenizer,
the task it serves and the settings of the run it came from. `tasks.loaded.load` makes one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from studio.core.modeling import loading, shapes


@dataclass
class LoadedModel:
    model: Any
    tokenizer: Any
    task: Any  # the Task it serves (studio.core.tasks)
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
