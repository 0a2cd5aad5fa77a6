"""The model picker takes a GGUF file like a model folder: it says what the first import costs, then the
model is loaded and named by its file; a hub id downloads with progress, and a cancel keeps what came."""

from __future__ import annotations

import torch

from studio.core.data.tokenizer import train_bpe
from studio.core.modeling import presets
from tests.helpers import write_llama_gguf
from tests.hub_server import model_files
from tests.ui.helpers import TIMEOUT


def _write_tiny_gguf(path):
    tokenizer = train_bpe(["def add(a, b):\n    return a + b\n" * 50], 300, family="llama")
    torch.manual_seed(0)
    write_llama_gguf(presets.build("llama-tiny", tokenizer, "AutoModelForCausalLM"), tokenizer, path)


def test_a_gguf_file_loads_and_the_first_import_is_announced(qtbot, ws, tmp_path):
    from studio.ui.widgets.model_picker import ModelPicker

    _write_tiny_gguf(tmp_path / "tiny.gguf")
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


def test_an_import_shows_its_progress_and_can_be_cancelled(qtbot, ws, tmp_path, monkeypatch):
    import time

    import gguf

    from studio.core.system import gguf as gguf_import
    from studio.ui.widgets.model_picker import ModelPicker

    _write_tiny_gguf(tmp_path / "tiny.gguf")
    slow = gguf.dequantize
    monkeypatch.setattr(gguf, "dequantize", lambda *args: (time.sleep(0.2), slow(*args))[1])  # a big file's pace
    picker = ModelPicker("picker")
    qtbot.addWidget(picker)
    picker.show()
    picker.choose(str(tmp_path / "tiny.gguf"))
    picker.load()
    qtbot.waitUntil(lambda: picker.cancel_button.isVisible() and "Dequantizing" in picker.info.text(),
                    timeout=TIMEOUT)
    assert picker.busy.maximum() == 100 and 0 < picker.busy.value() < 100
    picker.cancel_button.click()
    qtbot.waitUntil(lambda: not picker.loading, timeout=TIMEOUT)
    assert picker.model is None and picker.load_button.isEnabled() and not picker.cancel_button.isVisible()
    assert picker.info.text().startswith("The import was cancelled")
    assert gguf_import.import_note(tmp_path / "tiny.gguf") is not None  # not imported: asked again next time


def test_a_hub_id_downloads_with_progress_and_a_cancel_keeps_what_came(qtbot, hub, chat_model, hf_cache):
    from studio.ui.widgets.model_picker import ModelPicker

    hub.add("me/chat", model_files(chat_model), pause_s=0.05)
    picker = ModelPicker("picker")
    qtbot.addWidget(picker)
    picker.show()
    picker.choose("me/chat")
    picker.load()
    qtbot.waitUntil(lambda: picker.cancel_button.isVisible() and " of " in picker.info.text(), timeout=TIMEOUT)
    picker.cancel_button.click()
    qtbot.waitUntil(lambda: not picker.loading, timeout=TIMEOUT)
    assert picker.model is None and picker.info.text().startswith("The download was cancelled; what was fetched")
    picker.load()  # again: it goes on, then loads
    qtbot.waitUntil(lambda: picker.model is not None, timeout=TIMEOUT)
    assert picker.model.task.name == "chat"


def test_a_long_name_shows_its_beginning_with_the_whole_in_the_tooltip(qtbot, ws):
    from studio.ui.widgets.model_picker import ModelPicker

    picker = ModelPicker("picker")
    qtbot.addWidget(picker)
    picker.resize(300, 80)
    picker.offer("/runs/2026-12-01_215856-bert-tiny-classify", "2026-12-01_215856-bert-tiny-classify · final")
    picker._list([])
    picker.choose("/runs/2026-12-01_215856-bert-tiny-classify")
    edit = picker.combo.lineEdit()
    assert edit.text().startswith("2026-12-01_215856") and edit.cursorPosition() == 0
    assert picker.combo.toolTip() == "/runs/2026-12-01_215856-bert-tiny-classify"
    picker.choose("/a/model/folder/with/a/long/name/that/will/not/fit/in/the/box")
    assert edit.cursorPosition() == 0


def test_choosing_an_entry_loads_it_and_alike_entries_are_told_apart(qtbot, ws, lm_run, tmp_path):
    import shutil

    from studio.ui.widgets.model_picker import ModelPicker

    twin = lm_run.parent / "lm-run-twin"  # the same model, task and start minute, under another name
    shutil.copytree(lm_run, twin)
    try:
        picker = ModelPicker("picker")
        qtbot.addWidget(picker)
        picker.show()
        picker.refresh()
        qtbot.waitUntil(lambda: not picker.listing and picker.combo.count() >= 2, timeout=TIMEOUT)
        texts = [picker.combo.itemText(i) for i in range(picker.combo.count())]
        assert len(set(texts)) == len(texts) and any(t.endswith("· lm-run-twin") for t in texts)
        index = picker.combo.findData(str(lm_run / "model"))
        with qtbot.waitSignal(picker.loaded, timeout=TIMEOUT):
            picker.combo.setCurrentIndex(index)
            picker.combo.activated.emit(index)  # what picking it from the open list does
        assert picker.model.source == str(lm_run / "model")
    finally:
        shutil.rmtree(twin)
