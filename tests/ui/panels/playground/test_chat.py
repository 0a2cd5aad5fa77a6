"""The chat Playground as a person uses it: send turns, see the conversation or the text the model reads,
answer again, go back to an earlier question, compare two models, export the chats as training data."""

from __future__ import annotations

import json

import pytest
from PySide6.QtWidgets import QApplication

from tests.ui.helpers import TIMEOUT, load_model


@pytest.fixture
def panel(window, monkeypatch, workspace_dir, qtbot, chat_model):
    monkeypatch.setenv("STUDIO_WORKSPACE", str(workspace_dir))
    window.tabs.setCurrentIndex(2)
    panel = window.playground_panel
    load_model(qtbot, panel.pickers[0], chat_model)
    panel.form.greedy.setChecked(True)
    panel.form.max_tokens.setValue(6)
    return panel


def _send(qtbot, panel, text: str) -> None:
    panel.prompt.setPlainText(text)
    panel.run_button.click()
    qtbot.waitUntil(lambda: not panel.generating and panel.run_button.isEnabled(), timeout=TIMEOUT)


def test_a_conversation_grows_turn_by_turn(panel, qtbot):
    assert panel.chatting and panel.chat_box.isVisible() and panel.run_button.text() == "Send"
    panel.chat_box.system.setPlainText("Be brief.")
    _send(qtbot, panel, "What does len do?")
    _send(qtbot, panel, "And abs?")
    chat = panel.chat.chats[0]
    assert chat.questions() == ["What does len do?", "And abs?"] and len(chat.turns) == 4
    assert chat.messages()[0] == {"role": "system", "content": "Be brief."}
    assert panel.prompt.toPlainText() == ""  # sent: the box is ready for the next turn
    shown = panel.columns[0].view.toPlainText()
    assert "You: What does len do?" in shown and "You: And abs?" in shown and shown.count("Assistant: ") == 2

    panel.chat_box.template.setChecked(True)  # the exact text the model reads, special tokens included
    text = panel.columns[0].view.toPlainText()
    assert "<|im_start|>system\nBe brief.<|im_end|>" in text and "<|im_start|>user\nAnd abs?<|im_end|>" in text


def test_regenerate_and_edit_an_earlier_question(panel, qtbot):
    _send(qtbot, panel, "What does len do?")
    _send(qtbot, panel, "And abs?")
    first = list(panel.chat.chats[0].turns)
    panel.chat_box.again.click()
    qtbot.waitUntil(lambda: not panel.generating and panel.run_button.isEnabled(), timeout=TIMEOUT)
    assert panel.chat.chats[0].turns == first  # greedy: the same answer again, in the same place

    menu = panel.chat_box.question_menu()
    assert [a.text() for a in menu.actions()][-2:] == ["1. What does len do?", "2. And abs?"]
    menu.actions()[-2].trigger()
    assert panel.chat.chats[0].turns == [] and panel.prompt.toPlainText() == "What does len do?"
    _send(qtbot, panel, "What does abs do?")
    assert panel.chat.chats[0].questions() == ["What does abs do?"]


def test_two_models_answer_the_same_turns_and_the_chats_export(panel, qtbot, chat_model, tmp_path):
    panel.compare.setChecked(True)
    load_model(qtbot, panel.pickers[1], chat_model)
    _send(qtbot, panel, "What does len do?")
    assert [c.questions() for c in panel.chat.chats] == [["What does len do?"]] * 2
    panel.chat_box.forget.click()  # cleared, but kept in the session for export
    _send(qtbot, panel, "And abs?")
    out = tmp_path / "chats.jsonl"
    panel.chat.export(out)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 4 and all(r["messages"][-1]["role"] == "assistant" for r in rows)
    assert "Exported 4 conversations" in panel.mode_label.text()
    QApplication.processEvents()


def test_a_chat_opens_in_the_attention_panel_with_its_turns_marked(panel, qtbot, window):
    attention = window.attention_panel
    panel.chat_box.attention.click()
    assert "Chat with the model first" in panel.run_error.text() and window.tabs.currentWidget() is panel
    panel.chat_box.system.setPlainText("Be brief.")
    _send(qtbot, panel, "What does len do?")
    panel.prompt.setPlainText("And abs?")  # typed, not sent: the Attention panel has the model answer it
    panel.chat_box.attention.click()
    assert window.tabs.currentWidget() is attention
    qtbot.waitUntil(lambda: attention.attention is not None and not attention.extracting, timeout=TIMEOUT)
    assert attention.error.isHidden(), attention.error.text()
    assert attention.as_conversation.isChecked() and attention.as_conversation.isVisible()
    roles = [role for role, _, _ in attention.attention.turns()]
    assert roles == ["system", "user", "assistant", "user", "assistant"]
    heatmap = attention.heatmap
    assert heatmap.bands.turns == attention.attention.turns() and not heatmap.legend.isHidden()
    assert "assistant" in heatmap.legend.text() and "system" in heatmap.legend.text()
    row = attention.attention.turns()[-1][1] + 1  # a token of the model's answer
    assert heatmap.describe(row, 0).split("→")[0].rstrip(": ").endswith("(turn 5, assistant)")
    assert "(turn 1, system)" in heatmap.describe(row, 0)
    attention.hide_special.setChecked(True)  # the bands follow the tokens kept
    assert [role for role, _, _ in heatmap.bands.turns] == roles
    assert heatmap.bands.turns[-1][2] == heatmap.matrix.shape[0]
    attention.as_conversation.setChecked(False)  # the same text read as plain text: no turns
    attention.extract_button.click()
    qtbot.waitUntil(lambda: not attention.extracting, timeout=TIMEOUT)
    assert attention.attention.turns() == [] and heatmap.legend.isHidden()
