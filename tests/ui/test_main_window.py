"""The window as a person uses it: open data, map columns, walk the wizard, train, pause, stop, reopen."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from studio.ui.main_window import PANEL_NAMES
from tests.ui.helpers import TIMEOUT, listed


def _open(window, qtbot, source) -> None:
    panel = window.data_panel
    panel.open_source(str(source))
    qtbot.waitUntil(lambda: panel.preview is not None and not panel.busy, timeout=TIMEOUT)


def test_window_has_its_panels_and_named_controls(window):
    for name in PANEL_NAMES:
        assert window.findChild(QWidget, name) is not None
    for name in ("openFileButton", "previewTable", "taskCombo", "wizardNext", "startButton", "runsTable"):
        assert window.findChild(QWidget, name) is not None
    assert window.findChild(QWidget, "dataEmpty").isVisible()


def _task(combo, name: str) -> None:
    combo.setCurrentIndex(combo.findData(name))


def test_open_file_preview_and_column_mapping(window, qtbot, pairs_jsonl, tmp_path):
    panel = window.data_panel
    _task(panel.task, "lm")
    _open(window, qtbot, pairs_jsonl)
    assert panel.model.rowCount() == 300 and panel.model.columnCount() == 2
    assert panel.model.data(panel.model.index(0, 1)).startswith("Return the")
    assert panel.current_task() == "summarize"  # the task follows the columns: source and target
    assert panel.columns() == {"source": "source", "target": "target"}
    errors = panel.columns_box.mapping_error
    assert errors.isHidden()
    target = panel.columns_box.boxes["target"]
    target.setCurrentIndex(target.findData("source"))
    assert not errors.isHidden() and "different columns" in errors.text()
    assert window.train_panel.wizard.data.text() == str(pairs_jsonl)


def test_bad_file_shows_a_message_and_the_window_stays_usable(window, qtbot, tmp_path, lm_text):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": 1}\n{oops\n')
    window.data_panel.open_source(str(bad))
    qtbot.waitUntil(lambda: not window.data_panel.error.isHidden(), timeout=TIMEOUT)
    assert "line 2 is not valid JSON" in window.data_panel.error.text()
    _open(window, qtbot, lm_text)
    assert window.data_panel.error.isHidden() and window.data_panel.model.rowCount() == 1200
    assert window.data_panel.row_count.text() == "1,200 rows"  # said for every task, before any tokenizer


def test_tokenizer_statistics_and_coloured_tokens(window, qtbot, lm_text):
    _open(window, qtbot, lm_text)
    tokens = window.data_panel.tokens_box
    tokens.vocab.setValue(300)
    tokens.train_button.click()
    qtbot.waitUntil(lambda: tokens.tokenizer_dir != "" and not window.data_panel.busy, timeout=TIMEOUT)
    assert "1,200 rows" in tokens.stats.text() and "continue in the next block" in tokens.stats.text()
    assert "rgba(" in tokens.tokens_view.toHtml() or "background-color:#" in tokens.tokens_view.toHtml()
    assert ":" not in Path(tokens.tokenizer_dir).name  # a folder name every file system takes
    assert window.train_panel.wizard.config().tokenizer == tokens.tokenizer_dir
    first = tokens.tokens_view.toPlainText()
    table = window.data_panel.table
    table.setCurrentIndex(window.data_panel.model.index(7, 0))  # the sample follows the row picked
    row = lm_text.read_text(encoding="utf-8").splitlines()[7]
    assert tokens.tokens_view.toPlainText() == row != first


def test_wizard_validates_as_typed(window, qtbot):
    wizard = window.train_panel.wizard
    wizard.go(2)
    _task(wizard.task, "lm")
    wizard.data.setText("sample:docstrings")  # a summarization sample with the LM task
    assert not wizard.error.isHidden() and "summarization sample" in wizard.error.text()
    assert not wizard.start.isEnabled()
    _task(wizard.task, "summarize")
    assert wizard.error.isHidden() and wizard.start.isEnabled()
    wizard.go(3)
    assert "studio train --task summarize --data sample:docstrings --model bart-tiny" in wizard.command.toPlainText()


@pytest.mark.slow
def test_train_pause_resume_stop_and_reopen(window, qtbot, lm_text):
    _open(window, qtbot, lm_text)
    window.data_panel.tokens_box.vocab.setValue(300)
    wizard = window.train_panel.wizard
    wizard.set_values(seq_len=32, batch_size=4, max_steps=100_000, save_every=1000, eval_every=1000)
    wizard.device.setCurrentIndex(wizard.device.findData("cpu"))
    wizard.go(3)
    qtbot.mouseClick(wizard.start, Qt.MouseButton.LeftButton)
    panel = window.train_panel
    monitor = panel.monitor
    qtbot.waitUntil(lambda: len(monitor.series.train_loss) >= 2, timeout=TIMEOUT)
    assert monitor.curves.train_curve.getData()[0] is not None and len(monitor.curves.train_curve.getData()[0]) >= 2
    status_bar = window.run_progress
    assert status_bar.isVisible() and status_bar.maximum() == 100_000 and status_bar.value() >= 1
    qtbot.mouseClick(monitor.pause, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Paused" in monitor.status.text(), timeout=TIMEOUT)
    steps = len(monitor.series.train_loss)
    qtbot.wait(600)
    assert len(monitor.series.train_loss) <= steps + 1  # at most the step that was under way
    qtbot.mouseClick(monitor.pause, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(monitor.series.train_loss) > steps + 1, timeout=TIMEOUT)
    qtbot.mouseClick(monitor.stop, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.training, timeout=TIMEOUT)
    assert "Stopped at step" in monitor.status.text()
    panel.tabs.setCurrentIndex(2)
    listed(qtbot, panel.runs)
    assert panel.runs.table.rowCount() == 1 and panel.runs.table.item(0, 3).text() == "stopped"
    panel.runs.table.selectRow(0)
    assert panel.runs.resume_button.isEnabled()
    panel.runs.open_button.click()
    assert len(monitor.series.train_loss) >= 2 and panel.tabs.currentIndex() == 1


@pytest.mark.slow
def test_closing_during_training_stops_with_a_checkpoint(window, qtbot, lm_text):
    from studio.core.runs import reader

    wizard = window.train_panel.wizard
    wizard.data.setText(str(lm_text))
    wizard.set_values(max_steps=100_000, seq_len=32, batch_size=4)
    wizard.device.setCurrentIndex(wizard.device.findData("cpu"))
    window.data_panel.tokens_box.vocab.setValue(300)
    wizard.start.click()
    monitor = window.train_panel.monitor
    qtbot.waitUntil(lambda: len(monitor.series.train_loss) >= 1, timeout=TIMEOUT)
    run_dir = window.train_panel.thread.run_dir
    window.close()
    assert not window.train_panel.training
    info = reader.read(Path(run_dir))
    assert info.status == "stopped" and info.checkpoints and info.checkpoints[-1]["step"] == info.global_step
    json.dumps(info.as_dict())


@pytest.mark.slow
def test_a_run_that_fails_late_shows_its_error_in_the_monitor(window, qtbot, tmp_path):
    wizard = window.train_panel.wizard
    wizard.data.setText(str(tmp_path / "gone.txt"))  # valid settings, missing file: found by the engine
    wizard.start.click()
    panel = window.train_panel
    qtbot.waitUntil(lambda: not panel.training and not panel.monitor.error.isHidden(), timeout=TIMEOUT)
    assert "does not exist" in panel.monitor.error.text()
    assert wizard.start.isEnabled()  # the window is still usable


def test_compare_overlays_selected_runs(window, qtbot, lm_run, cls_run):
    import shutil

    from studio.core.system import workspace

    target = workspace.runs_dir(workspace.workspace())
    for name in ("a", "b"):
        shutil.copytree(lm_run, target / name)
    shutil.copytree(cls_run, target / "c")
    panel = window.train_panel
    panel.refresh_runs()
    listed(qtbot, panel.runs)
    panel.runs.select(["a", "b"])
    panel.runs.compare_button.click()
    assert set(panel.monitor.curves.overlays) == {"a", "b"}
    assert len(panel.monitor.curves.overlay_curves["a"].getData()[0]) >= 2
    panel.runs.select(["a"])
    panel.runs.open_button.click()  # a is shown now
    panel.tabs.setCurrentIndex(2)
    listed(qtbot, panel.runs)
    panel.runs.select(["a", "b", "c"])
    panel.runs.compare_button.click()
    curves = panel.monitor.curves
    assert set(curves.overlays) == {"b", "c"}  # not a drawn over itself
    # a classifier over a language model: its loss, said to be another task's, and none of its metrics
    assert curves.overlay_curves["c"].name() == "c (classify, another task: loss only)"
    assert [k for k in curves.overlay_metric_curves if k[0] == "c"] == []
    assert [k for k in curves.overlay_metric_curves if k[0] == "b"]  # the same task's metrics are compared
    panel.runs.select(["b"])
    panel.runs.open_button.click()  # another run: the comparison chosen for a does not follow
    assert curves.overlays == {} and curves.overlay_curves == {} and curves.overlay_metric_curves == {}


def test_recent_files_and_layout_persist(qtbot, lm_text):
    from studio.ui import settings
    from studio.ui.main_window import MainWindow

    first = MainWindow()
    qtbot.addWidget(first)
    first.data_panel.open_source(str(lm_text))
    qtbot.waitUntil(lambda: first.data_panel.preview is not None, timeout=TIMEOUT)
    first.tabs.setCurrentIndex(1)
    first.close()
    assert settings.recent_files() == [str(lm_text)]
    second = MainWindow()
    qtbot.addWidget(second)
    assert second.tabs.currentIndex() == 1
    assert [a.text() for a in second.recent_menu.actions()] == [str(lm_text)]


def test_a_time_budget_replaces_the_step_counts_and_is_timed_before_the_start(window, qtbot):
    wizard = window.train_panel.wizard
    _task(wizard.task, "classify")
    wizard.go(2)
    assert wizard.shows("max_steps") and not wizard.settings_form.isRowVisible(wizard.minutes)
    wizard.length_mode.setCurrentIndex(wizard.length_mode.findData("minutes"))
    wizard.minutes.setValue(1.0)
    wizard.device.setCurrentIndex(wizard.device.findData("cpu"))
    assert not any(wizard.shows(planned) for planned in ("max_steps", "eval_every", "save_every"))
    assert wizard.config().minutes == 1.0
    qtbot.waitUntil(lambda: "steps fit" in wizard.budget_estimate.text(), timeout=TIMEOUT)
    assert "Timed on cpu" in wizard.budget_estimate.text()
    steps = int(re.search(r"about ([\d,]+) steps fit", wizard.budget_estimate.text())[1].replace(",", ""))
    # a minute buys classify's default 600 steps only on a fast machine; fewer than half are called few
    assert ("That is few" in wizard.budget_estimate.text()) == (steps < 300)
    wizard.minutes.setValue(0.5)  # the same shape: planned again from the timing already taken
    qtbot.waitUntil(lambda: "steps fit" in wizard.budget_estimate.text() or "Only" in wizard.budget_estimate.text(),
                    timeout=TIMEOUT)
    wizard.go(3)
    command = wizard.command.toPlainText()
    assert "--minutes 0.5" in command and "--max-steps" not in command
    assert "as many steps as fit in 0.5 minutes" in wizard.review.text()
    wizard.length_mode.setCurrentIndex(wizard.length_mode.findData("steps"))
    assert wizard.config().minutes == 0 and "--minutes" not in wizard.command.toPlainText()


def test_the_review_says_how_long_a_run_of_steps_takes_and_warns_of_a_long_one(window, qtbot):
    wizard = window.train_panel.wizard
    _task(wizard.task, "classify")
    wizard.device.setCurrentIndex(wizard.device.findData("cpu"))
    wizard.go(3)
    qtbot.waitUntil(lambda: wizard.review_time.text().startswith("About "), timeout=TIMEOUT)
    assert "for 600 steps (timed here" in wizard.review_time.text()
    assert wizard.review_time.text() == wizard.budget_estimate.text()
    wizard.go(2)
    wizard.set_values(max_steps=2_000_000)  # the same shape: estimated again from the timing taken
    wizard.go(3)
    qtbot.waitUntil(lambda: "2,000,000 steps" in wizard.review_time.text(), timeout=TIMEOUT)
    assert "That is long" in wizard.review_time.text() and "Minutes" in wizard.review_time.text()


def test_the_monitor_shows_the_time_left_the_engine_counts(window):
    from collections import deque

    from studio.core.training.events import Metrics

    monitor = window.train_panel.ensure_monitor()

    class Thread:
        events = deque([(0.0, Metrics(10, 100, {"train_loss": 2.0}, 125.0))])

    monitor.thread = Thread()
    monitor.drain()
    assert monitor.labels["eta"].text() == "2 min 05 s"
    monitor.thread = None


def test_long_names_are_cut_never_a_wider_window(window, qtbot):
    """A run whose name is long (a continued run's) in the Playground side by side, in the pickers and the wizard's
    lists widened the window from 1200 to 1403 px on a 1280 px screen; every panel keeps to the window."""
    from PySide6.QtWidgets import QWidget

    window.resize(1200, 800)
    long = "2026-12-07_235808-2026-12-07_233334-SmolLM2-135M-Instruct-chat-prefer · final"
    playground = window.playground_panel
    window.tabs.setCurrentWidget(playground)
    playground.compare.setChecked(True)
    for i, picker in enumerate(playground.pickers + [window.attention_panel.picker]):
        picker.combo.addItem(f"{long} · Chat · final · Dec 07 23:33", "/x")
        picker.combo.setCurrentIndex(0)
        if i < 2:
            playground.columns[i].show_model(long)
            for answers in playground.answers.values():
                answers[i].show_model(long, None)
    wizard_model = window.train_panel.wizard.findChild(QWidget, "modelRun")
    wizard_model.addItem(f"{long} · Chat · final", "/x")
    qtbot.wait(50)
    for i in range(window.tabs.count()):
        assert window.tabs.widget(i).minimumSizeHint().width() <= 1100, window.tabs.tabText(i)
    assert window.minimumSizeHint().width() <= 1200 and window.width() == 1200
    assert playground.columns[0].title.toolTip() == long  # the whole name is a hover away
