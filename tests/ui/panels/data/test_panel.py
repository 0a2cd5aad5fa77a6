"""The Data panel opens a path typed or pasted into its field, and a file of conversations opens as chat data."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt

from tests.ui.helpers import TIMEOUT


def test_a_typed_path_opens_and_a_messages_file_is_chat(window, qtbot, tmp_path):
    rows = [{"messages": [{"role": "user", "content": f"What is {i}?"},
                          {"role": "assistant", "content": f"It is {i}."}]} for i in range(12)]
    data = tmp_path / "talks.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    panel = window.data_panel
    assert not panel.source.isReadOnly()
    qtbot.keyClicks(panel.source, f"  '{data}'")  # pasted from a shell, quoted, with a stray space
    qtbot.keyClick(panel.source, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: panel.model.rowCount() == 12, timeout=TIMEOUT)
    assert panel.current_task() == "chat" and panel.error.isHidden()
    assert panel.columns_box.mapping_error.isHidden()
    panel.source.clear()
    qtbot.keyClicks(panel.source, "/no/such/file.csv")
    qtbot.keyClick(panel.source, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not panel.error.isHidden(), timeout=TIMEOUT)
    assert "does not exist" in panel.error.text() and panel.model.rowCount() == 12  # the open data stays
