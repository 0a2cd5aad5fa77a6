"""A GGUF file (what LM Studio and Ollama keep on disk) imported once into a model folder.

transformers reads GGUF and dequantizes it into ordinary weights; the folder it becomes is kept in the
workspace's cache, keyed by the file's path, size and time, so the next use of the same file is a plain
model folder: chat, fine-tune, inspect. The folder is written whole or not at all.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from studio.core.control import Control
from studio.core.errors import ModelError
from studio.core.system import workspace
from studio.core.system.files import atomic_dir

SUFFIX = ".gguf"
FOLDER = "gguf"


def is_gguf(name: str) -> bool:
    return name.lower().endswith(SUFFIX)


def architecture(path: Path) -> str:
    """The model architecture a GGUF file declares; a sentence when the file cannot be read as GGUF."""
    from gguf import GGUFReader

    try:
        field = GGUFReader(str(path)).fields["general.architecture"]
        return bytes(field.parts[field.data[0]]).decode("utf-8")
    except (OSError, ValueError, KeyError, IndexError) as exc:
        raise ModelError(f"'{path.name}' is not a readable GGUF file ({type(exc).__name__}: {exc}); it may be cut "
                         "short: download it again.") from None


def folder_for(path: Path, root: Path | None = None) -> Path:
    """Where the file `path` is (or will be) imported: its own folder per path, size and time."""
    path = path.expanduser().resolve()
    stat = path.stat()
    key = hashlib.sha1(f"{path}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:12]
    return workspace.cache_dir(root or workspace.workspace()) / FOLDER / f"{path.stem}-{key}"


def import_note(path: Path, root: Path | None = None) -> str | None:
    """What a person should know before a first import ("dequantizing to about 540 MB, once"); None once
    the file is imported, or when it is not a readable file (the import says why)."""
    from gguf import GGUFReader

    path = path.expanduser()
    try:
        if (folder_for(path, root) / "config.json").is_file():
            return None
        weights = sum(int(t.n_elements) for t in GGUFReader(str(path)).tensors)
    except (OSError, ValueError):
        return None
    return (f"Importing {path.name} once: its weights are dequantized to about {4 * weights / 2**20:,.0f} MB in the "
            "workspace's cache; later loads of this file are quick.")


Progress = Callable[[float, str], None]

# one import at a time swaps the bar: two at once would restore each other's
_SWAP = threading.Lock()
# rough shares of an import's time: dequantizing the tensors takes most of it
_READ, _DEQUANTIZED = 0.05, 0.85


@contextlib.contextmanager
def _tensor_progress(progress: Progress | None, control: Control | None) -> Iterator[None]:
    """Report each tensor transformers dequantizes, and stop between tensors when asked.

    transformers offers no hook into its GGUF loop, only a tqdm bar over the file's tensors; the bar's
    name is swapped for the length of one import (the loop looks it up when it runs) for one that
    reports to `progress` and checks `control`.
    """
    from transformers import modeling_gguf_pytorch_utils as loader

    if progress is None and control is None or not hasattr(loader, "tqdm"):
        yield
        return

    def tensors(items: Iterable[Any], **_: Any) -> Iterator[Any]:
        items = list(items)
        for done, item in enumerate(items):
            if control is not None:
                control.checkpoint()
            if progress is not None:
                progress(_READ + (_DEQUANTIZED - _READ) * done / max(len(items), 1),
                         f"Dequantizing tensor {done + 1:,} of {len(items):,}…")
            yield item

    with _SWAP:
        original = loader.tqdm
        loader.tqdm = tensors
        try:
            yield
        finally:
            loader.tqdm = original


def imported(path: Path, root: Path | None = None, progress: Progress | None = None,
             control: Control | None = None) -> Path:
    """The model folder `path` imports to, importing it the first time; `progress(fraction, message)`
    hears how far the import is, and `control` may stop it (nothing is left behind)."""
    path = path.expanduser().resolve()
    if not path.is_file():
        raise ModelError(f"There is no GGUF file '{path}'; check the path.")
    # every load of the model asks again (config, tokenizer, weights): once imported, the folder answers
    folder = folder_for(path, root)
    if (folder / "config.json").is_file():
        return folder
    from transformers.modeling_gguf_pytorch_utils import GGUF_SUPPORTED_ARCHITECTURES

    arch = architecture(path)
    if arch not in GGUF_SUPPORTED_ARCHITECTURES:
        raise ModelError(f"'{path.name}' holds a {arch} model, which transformers cannot read from GGUF; it reads "
                         f"{', '.join(sorted(GGUF_SUPPORTED_ARCHITECTURES)[:12])} and a few more.")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    report = progress or (lambda fraction, message: None)
    report(0.0, f"Reading the tokenizer of {path.name}…")
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
        # dequantized to full precision: what training and every device can use
        with _tensor_progress(progress, control):
            model = AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name, dtype=torch.float32)
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise ModelError(f"transformers could not import '{path.name}' ({type(exc).__name__}: {exc}).") from None
    # transformers marks a model read from GGUF as quantized and refuses to save it, though its weights are
    # dequantized already: saved as what it now is, an ordinary full-precision model
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    if control is not None:
        control.checkpoint()
    report(_DEQUANTIZED, f"Writing the model folder ({folder.name})…")
    with atomic_dir(folder) as staging:
        model.save_pretrained(str(staging))
        tokenizer.save_pretrained(str(staging))
    report(1.0, f"Imported {path.name}.")
    return folder

