"""A task from another package (tests.plugin's topic task) is offered by the window like a built-in one:
the Data panel and the wizard (with its own setting's row), the Runs list and the monitor, the Playground."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from studio.core.training.config import command_line
from tests.ui.helpers import TIMEOUT, listed, load_model


@pytest.fixture
def topic_window(topic_plugin, topic_run, monkeypatch, request):
    monkeypatch.setenv("STUDIO_WORKSPACE", str(topic_run.parent.parent))
    return request.getfixturevalue("window")


def test_the_data_panel_and_the_wizard_offer_the_task_and_its_setting(topic_window, qtbot, labelled_csv):
    window = topic_window
    box = window.data_panel.columns_box
    assert box.task.findData("topic") >= 0
    window.data_panel.open_source(str(labelled_csv))
    qtbot.waitUntil(lambda: window.data_panel.preview is not None and not window.data_panel.busy, timeout=TIMEOUT)
    box.task.setCurrentIndex(box.task.findData("topic"))
    assert window.data_panel.current_task() == "topic" and window.data_panel.columns() == {"text": "text",
                                                                                          "label": "label"}
    wizard = window.train_panel.wizard
    assert wizard.task.currentData() == "topic"
    wizard.go(2)
    assert wizard.shows("topic_words") and wizard.field("topic_words").widget.text() == "all"
    wizard.set_values(topic_words=5)
    config = wizard.validate()
    assert config is not None and config.task_config()["topic_words"] == 5
    assert "--task topic" in command_line(config) and "--topic-words 5" in command_line(config)
    wizard.task.setCurrentIndex(wizard.task.findData("classify"))
    assert not wizard.shows("topic_words") and "--topic-words" not in command_line(wizard.validate())


def test_the_runs_list_the_monitor_and_the_playground_show_a_plug_in_run(topic_window, qtbot, topic_run):
    window = topic_window
    panel = window.train_panel
    window.tabs.setCurrentWidget(panel)
    panel.refresh_runs()
    qtbot.waitUntil(lambda: panel.runs.row_of("topic-run") >= 0, timeout=TIMEOUT)
    row = panel.runs.row_of("topic-run")
    shown = [panel.runs.table.item(row, c).text() for c in range(panel.runs.table.columnCount())
             if panel.runs.table.item(row, c) is not None]
    assert "Topic classification" in shown and any("Accuracy" in text for text in shown)

    panel.runs.select(["topic-run"])
    panel.runs.open_button.click()
    monitor = panel.monitor
    assert [m.name for m in monitor.headline] == ["eval_accuracy", "eval_f1"]
    assert monitor.report_views["labels"].isVisible()

    playground = window.playground_panel
    window.tabs.setCurrentWidget(playground)
    load_model(qtbot, playground.pickers[0], topic_run)
    assert playground.pickers[0].model.task.name == "topic" and playground.run_button.text() == "Classify"
    column = playground.answers["labels"][0]
    playground.prompt.setPlainText("open the file and read its bytes")
    qtbot.waitUntil(lambda: column.result is not None, timeout=TIMEOUT)
    assert set(column.result.scores) == {"files", "maths", "network"}
    assert column.isVisible() and not playground.form.isVisible()
    listed(qtbot, playground.pickers[0])
    assert playground.pickers[0].combo.findText("Topic classification", Qt.MatchFlag.MatchContains) >= 0
