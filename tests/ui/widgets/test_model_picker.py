"""The model picker takes a GGUF file like a model folder: it says what the first import costs, then the
model is loaded and named by its file."""

from __future__ import annotations

import torch

from studio.core.data.tokenizer import train_bpe
from studio.core.modeling import presets
from tests.helpers import write_llama_gguf
from tests.ui.helpers import TIMEOUT


def test_a_gguf_file_loads_and_the_first_import_is_announced(qtbot, ws, tmp_path):
    from studio.ui.widgets.model_picker import ModelPicker

    tokenizer = train_bpe(["def add(a, b):\n    return a + b\n" * 50], 300, family="llama")
    torch.manual_seed(0)
    write_llama_gguf(presets.build("llama-tiny", tokenizer, "AutoModelForCausalLM"), tokenizer,
                     tmp_path / "tiny.gguf")
    picker = ModelPicker("picker")
    qtbot.addWidget(picker)
    said = []
    picker.info.setText = lambda text, real=picker.info.setText: (said.append(text), real(text))
    picker.choose(str(tmp_path / "tiny.gguf"))
    picker.load()
    qtbot.waitUntil(lambda: not picker.loading, timeout=TIMEOUT)
    assert picker.model is not None, picker.error.text()
    assert any(t.startswith("Importing tiny.gguf once") for t in said)
    assert picker.label == "tiny.gguf" and picker.model.model.config.model_type == "llama"
