"""Loading a trained model for use, knowing its task.

The task comes from the run the model belongs to (its config.toml), or else from the model's own
`config.architectures`; the model is then loaded with that task's auto class.
"""

from __future__ import annotations

from collections.abc import Callable

from studio.core.control import Control
from studio.core.data.tokenizer import load_tokenizer
from studio.core.hub import download
from studio.core.modeling import loading
from studio.core.modeling.loaded import LoadedModel
from studio.core.runs import layout
from studio.core.system import device as devices
from studio.core.system.quiet import quiet_transformers
from studio.core.tasks import registry


def load(name: str, *, device: str = "auto", attn_implementation: str | None = None,
         trust_remote_code: bool = False, progress: Callable[[float, str], None] | None = None,
         control: Control | None = None) -> LoadedModel:
    """Load a model folder, run folder or hub id, in eval mode, on `device`. A hub id's files come into the
    cache first, reported to `progress` (fraction, what is happening) and stopped by `control`."""
    source = layout.model_source(name)
    if loading.is_hub_id(source):
        download.ensure(source, progress and (lambda p: progress(p.done / max(1, p.total), download.as_text(p))),
                        control)
    run = layout.run_of(source) if loading.is_local_model(source) else None
    settings = layout.read_config(run) if run is not None else {}
    config = loading.load_config(source, trust_remote_code=trust_remote_code)
    tokenizer = load_tokenizer(source, trust_remote_code=trust_remote_code)
    task = registry.for_model(config, settings.get("task"), tokenizer)
    with quiet_transformers():
        model, _ = loading.load_pretrained(source, task.auto_class, trust_remote_code=trust_remote_code,
                                           attn_implementation=attn_implementation, keep_adapter=True)
    chosen = devices.pick_device(device)
    model.to(chosen).eval()
    return LoadedModel(model, tokenizer, task, chosen, source, settings)
