"""The Models panel against a Hub that runs here: search by task, a model's page with its card, files, variants
and memory check, a download with progress, pause, cancel and continue, the cache with remove (after asking),
the token, and the sentence offline."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt

from studio.ui.panels.models.panel import ModelsPanel
from tests.hub_server import TOKEN, model_files, weights
from tests.ui.helpers import TIMEOUT

CARD = b"---\nlicense: mit\n---\n# Tiny chat\n\nIt answers **in one line**.\n"


def _panel(qtbot) -> ModelsPanel:
    panel = ModelsPanel()
    qtbot.addWidget(panel)
    panel.resize(1200, 800)
    panel.show()
    return panel


def _select(table, text: str) -> None:
    row = next(r for r in range(table.rowCount()) if table.item(r, 0).data(Qt.ItemDataRole.UserRole) == text)
    table.selectRow(row)


def test_search_read_a_page_download_it_and_remove_it(qtbot, hub, chat_model, hf_cache, monkeypatch):
    files = {**model_files(chat_model), "README.md": CARD}
    hub.add("me/chat", files, downloads=30)
    hub.add("me/encoder", {"config.json": b'{"model_type": "bert"}'}, pipeline_tag="fill-mask")
    panel = _panel(qtbot)
    qtbot.waitUntil(lambda: panel.total.text() != "", timeout=TIMEOUT)
    assert "No models here yet" in panel.total.text() and panel.token_status.text() == "Token: none"
    panel.task.setCurrentIndex(panel.task.findData("chat"))
    panel.query.setText("me/")
    panel.search()
    qtbot.waitUntil(lambda: panel.results.rowCount() == 1, timeout=TIMEOUT)
    assert panel.results.item(0, 0).text() == "me/chat" and "chat" in panel.status.text().lower()

    _select(panel.results, "me/chat")
    qtbot.waitUntil(lambda: "to train" in panel.page.memory.text(), timeout=TIMEOUT)
    assert "me/chat" in panel.page.title.text() and "licence mit" in panel.page.facts.text()
    assert "Tiny chat" in panel.page.card.toPlainText() and "---" not in panel.page.card.toPlainText()
    assert panel.page.files.rowCount() == len(files)
    assert panel.page.variant.currentText().startswith("Safetensors weights")

    panel.page.download.click()
    qtbot.waitUntil(lambda: "is here" in panel.downloads.label.text(), timeout=TIMEOUT)
    qtbot.waitUntil(lambda: panel.local.rowCount() == 1, timeout=TIMEOUT)
    assert panel.local.item(0, 0).text() == "me/chat" and "1 model," in panel.total.text()

    _select(panel.local, "me/chat")
    monkeypatch.setattr(panel, "confirm_remove", lambda repo: False)
    panel.remove_selected()
    assert (hf_cache / "models--me--chat").exists()  # asked, and the answer was no
    monkeypatch.setattr(panel, "confirm_remove", lambda repo: True)
    panel.remove_selected()
    assert not (hf_cache / "models--me--chat").exists() and "Removed me/chat" in panel.status.text()
    qtbot.waitUntil(lambda: panel.local.rowCount() == 0, timeout=TIMEOUT)


def test_a_download_pauses_cancels_and_continues_from_the_list(qtbot, hub, hf_cache):
    data = weights(3 * 2**20)
    hub.add("me/big", {"config.json": json.dumps({"model_type": "gpt2"}).encode(), "model.safetensors": data},
            pause_s=0.02)
    panel = _panel(qtbot)
    box = panel.downloads
    assert box.start("me/big")
    qtbot.waitUntil(lambda: box.bar.value() > 50, timeout=TIMEOUT)
    assert not box.start("me/other") and "wait for it" in box.label.text()  # one at a time
    box.toggle_pause()
    assert "paused" in box.label.text() and box.pause_button.text() == "Resume"
    # cancelled while paused: resumed first, the rest of the file could arrive before the cancel on a busy machine
    box.cancel()
    qtbot.waitUntil(lambda: "cancelled" in box.label.text(), timeout=TIMEOUT)
    panel.refresh_local()
    qtbot.waitUntil(lambda: box.pending.count() == 1, timeout=TIMEOUT)
    assert "Continue me/big" in box.pending.item(0).text() and "part-way" in panel.local.item(0, 1).text()
    box.pending.itemDoubleClicked.emit(box.pending.item(0))
    qtbot.waitUntil(lambda: "is here" in box.label.text(), timeout=TIMEOUT)
    assert next(hf_cache.glob("models--me--big/snapshots/*/model.safetensors")).read_bytes() == data


def test_a_token_is_checked_before_it_is_kept(qtbot, hub, hf_cache):
    panel = _panel(qtbot)
    panel.token.setText("hf_wrong")
    panel.save_token()
    qtbot.waitUntil(lambda: panel.token_status.text() == "Token: refused", timeout=TIMEOUT)
    assert "refused that token" in panel.status.text()
    panel.token.setText(TOKEN)
    panel.save_token()
    qtbot.waitUntil(lambda: panel.token_status.text() == "Token: saved (person)", timeout=TIMEOUT)
    assert panel.token.text() == ""


def test_offline_the_panel_says_search_needs_a_network(qtbot, hf_cache):
    panel = _panel(qtbot)
    qtbot.waitUntil(lambda: "cannot be reached" in panel.status.text(), timeout=TIMEOUT)
    panel.query.setText("bert")
    panel.search()
    qtbot.waitUntil(lambda: "cannot be reached" in panel.status.text() and "Searching" not in panel.status.text(),
                    timeout=TIMEOUT)


def test_train_with_a_model_opens_the_wizard_with_it_for_the_task_chosen(window):
    wizard = window.train_panel.wizard
    window.models_panel.train_with.emit("me/encoder", "classify")
    assert window.tabs.currentWidget() is window.train_panel
    assert wizard.model.name() == "me/encoder" and wizard.pages.currentIndex() == 1
    assert wizard.current_task().name == "classify"
    window.models_panel.train_with.emit("me/chat", None)  # any task: the wizard's own stays
    assert wizard.model.name() == "me/chat" and wizard.current_task().name == "classify"


def test_a_model_of_an_added_folder_opens_its_page_trains_and_is_offered_everywhere(window, qtbot, chat_model,
                                                                                     hf_cache):
    from studio.ui.widgets.model_picker import ModelPicker

    panel = window.models_panel
    panel.add_folder(str(chat_model.parent))
    qtbot.waitUntil(lambda: panel.local.rowCount() >= 1, timeout=TIMEOUT)
    _select(panel.local, str(chat_model))
    row = next(r for r in range(panel.local.rowCount()) if panel.local.item(r, 0).data(Qt.ItemDataRole.UserRole) ==
               str(chat_model))
    assert panel.local.item(row, 2).text() == "—"  # Studio does not see a folder model's use: no date made up
    panel._open_selected(panel.local)
    assert panel.page.title.text().startswith(f"{chat_model.name} · in your folder")
    assert panel.page.train.isEnabled() and not panel.page.download.isEnabled()
    qtbot.waitUntil(lambda: "to train" in panel.page.memory.text(), timeout=TIMEOUT)
    panel.page.train.click()
    wizard = window.train_panel.wizard
    assert window.tabs.currentWidget() is window.train_panel and wizard.model.name() == str(chat_model)
    picker = ModelPicker("picker")
    qtbot.addWidget(picker)
    picker.refresh()
    qtbot.waitUntil(lambda: picker.combo.findData(str(chat_model)) >= 0, timeout=TIMEOUT)
    assert picker.combo.itemText(picker.combo.findData(str(chat_model))).startswith(f"{chat_model.name} · in ")
    wizard.model.refresh_runs(wizard.current_task())
    qtbot.waitUntil(lambda: wizard.model.local.completer() is not None and
                    wizard.model.local.completer().model().rowCount() >= 1, timeout=TIMEOUT)
