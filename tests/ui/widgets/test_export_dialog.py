"""The Export dialog says what it will write (or why it cannot) before it starts, exports in the background
with its progress, shows Ollama's command to copy, and a Cancel leaves nothing at the path."""

from __future__ import annotations

from studio.ui.widgets.export_dialog import ExportDialog
from tests.ui.helpers import TIMEOUT


def _dialog(qtbot, model) -> ExportDialog:
    dialog = ExportDialog(str(model))
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def _choose(qtbot, dialog, fmt: str, out: str) -> None:
    dialog.format.setCurrentIndex(dialog.format.findData(fmt))
    dialog.out.setText(out)
    dialog.replan()
    qtbot.waitUntil(lambda: dialog.start.isEnabled() or not dialog.error.isHidden(), timeout=TIMEOUT)


def test_it_says_what_it_writes_then_exports_an_ollama_folder(qtbot, chat_model, tmp_path):
    dialog = _dialog(qtbot, chat_model)
    out = tmp_path / "ollama"
    dialog.quant.setCurrentIndex(dialog.quant.findData("q8_0"))
    _choose(qtbot, dialog, "ollama", str(out))
    assert dialog.error.isHidden()
    assert f"Writes {out / 'chat-model0-q8_0.gguf'}" in dialog.plan_text.text()
    assert f"Writes {out / 'Modelfile'}" in dialog.plan_text.text()
    assert dialog.quant.isEnabled() and dialog.public.isHidden()
    dialog.start.click()
    assert dialog.cancel.text() == "Cancel" and not dialog.format.isEnabled()
    qtbot.waitUntil(lambda: not dialog.exporting and dialog.cancel.text() == "Close", timeout=TIMEOUT)
    assert (out / "Modelfile").is_file() and (out / "chat-model0-q8_0.gguf").is_file()
    assert dialog.command.isVisible() and dialog.command.text().endswith("ollama create chat-model0 -f Modelfile")
    assert dialog.stage.text().startswith(f"Wrote {out}")


def test_a_choice_that_cannot_work_is_said_where_it_was_made(qtbot, sum_run, tmp_path):
    dialog = _dialog(qtbot, sum_run)
    _choose(qtbot, dialog, "gguf", str(tmp_path / "x.gguf"))
    assert "does not convert BartForConditionalGeneration models" in dialog.error.text()
    assert not dialog.start.isEnabled()
    _choose(qtbot, dialog, "hf", str(tmp_path / "folder"))  # the same model exports as a folder
    assert dialog.error.isHidden() and dialog.start.isEnabled()
    assert not dialog.quant.isEnabled()


def test_cancel_stops_the_export_and_leaves_nothing(qtbot, chat_model, tmp_path):
    dialog = _dialog(qtbot, chat_model)
    out = tmp_path / "model.gguf"
    _choose(qtbot, dialog, "gguf", str(out))
    dialog.start.click()
    dialog.cancel.click()
    qtbot.waitUntil(lambda: not dialog.exporting, timeout=TIMEOUT)
    assert "cancelled" in dialog.stage.text() or out.exists()  # a tiny model may finish before the click lands
    if not out.exists():
        assert list(tmp_path.iterdir()) == []


def test_a_refusal_names_the_dialogs_own_controls(qtbot, chat_model, tmp_path):
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "config.json").write_text("{}")
    dialog = _dialog(qtbot, chat_model)
    _choose(qtbot, dialog, "hf", str(taken))
    assert "choose another place to save it, or tick Replace what is there" in dialog.error.text()
    assert "--" not in dialog.error.text()
    dialog.overwrite.setChecked(True)
    qtbot.waitUntil(lambda: dialog.start.isEnabled(), timeout=TIMEOUT)


def test_the_dialog_starts_in_the_workspace_keeps_a_chosen_place_and_says_what_the_weights_are(qtbot, chat_model,
                                                                                               tmp_path):
    import os
    from pathlib import Path

    dialog = _dialog(qtbot, chat_model)
    assert Path(dialog.out.text()).parent == Path(os.environ["STUDIO_WORKSPACE"]) / "exports"
    chosen = tmp_path / "mine.gguf"
    dialog.format.setCurrentIndex(dialog.format.findData("gguf"))
    dialog.out.setText(str(chosen))
    dialog.out.textEdited.emit(str(chosen))  # as typing does
    dialog.format.setCurrentIndex(dialog.format.findData("hf"))
    assert dialog.out.text() == str(tmp_path / "mine")  # the place kept, as a folder for a model folder
    qtbot.waitUntil(lambda: dialog.start.isEnabled(), timeout=TIMEOUT)
    assert dialog.quant.isHidden() and dialog.own_weights.text() == "as the model keeps them (float32)"
    dialog.start.click()
    qtbot.waitUntil(lambda: dialog.stage.text().startswith("Wrote"), timeout=TIMEOUT)
    dialog.format.setCurrentIndex(dialog.format.findData("ollama"))
    assert dialog.stage.text() == ""  # the last export's line is not this format's
    assert not dialog.own_weights.isVisibleTo(dialog) and dialog.quant.isVisibleTo(dialog)


def test_replacing_the_model_being_exported_is_refused_in_the_dialog(qtbot, chat_model):
    dialog = _dialog(qtbot, chat_model)
    dialog.overwrite.setChecked(True)
    _choose(qtbot, dialog, "hf", str(chat_model))
    assert "is the model being read" in dialog.error.text() and not dialog.start.isEnabled()
