"""Masked-LM pretraining and tagging in the window: tag counts and an example with its spans, the
wizard's settings and runs to continue from, fill-mask and tag views in the Playground, the tagger's
report in the monitor, and a fine-tune compared with its twin trained from scratch."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from studio.core.playground.fill_mask import fill
from studio.core.playground.tagging import tag
from studio.core.runs import layout, reader
from studio.core.system import workspace
from studio.core.tasks import loaded as inference
from studio.core.training.config import RunConfig, command_line
from tests.helpers import TINY_CLS, train_cli
from tests.ui.helpers import TIMEOUT, listed, load_model


def _open(window, qtbot, source) -> None:
    panel = window.data_panel
    panel.open_source(str(source))
    qtbot.waitUntil(lambda: panel.preview is not None and not panel.busy, timeout=TIMEOUT)


def test_word_and_tag_lists_open_as_tagging_with_counts_and_an_example(window, qtbot, tagged_jsonl):
    _open(window, qtbot, tagged_jsonl)
    panel = window.data_panel
    assert panel.current_task() == "tag" and panel.columns() == {"tokens": "tokens", "tags": "tags"}
    box = panel.columns_box
    qtbot.waitUntil(lambda: "tags (" in box.labels_summary.text(), timeout=TIMEOUT)
    assert box.labels_summary.text().startswith("5 tags (2 entity types: LOC, PER)")
    assert box.example.isVisible() and "<sub> PER</sub>" in box.example.text()
    assert window.train_panel.wizard.task.currentData() == "tag"


def test_wizard_shows_each_tasks_own_settings_and_the_runs_it_can_continue(window, qtbot, mlm_run, lm_run, monkeypatch,
                                                                           workspace_dir):
    monkeypatch.setenv("STUDIO_WORKSPACE", str(workspace_dir))
    wizard = window.train_panel.wizard
    wizard.task.setCurrentIndex(wizard.task.findData("mlm"))
    wizard.go(2)
    assert wizard.shows("mlm_probability") and wizard.shows("whole_word_mask") and not wizard.shows("target_len")
    wizard.set_values(whole_word_mask=True, mlm_probability=0.2)
    wizard.go(3)
    command = wizard.command.toPlainText()
    assert "--whole-word-mask" in command and "--mlm-probability 0.2" in command
    listed(qtbot, wizard.model)
    runs_offered = lambda: {wizard.model.run.itemData(i) for i in range(wizard.model.run.count())}  # noqa: E731
    assert str(mlm_run) in runs_offered() and str(lm_run) not in runs_offered()  # a GPT cannot pretrain as MLM
    wizard.task.setCurrentIndex(wizard.task.findData("classify"))
    listed(qtbot, wizard.model)
    assert {str(mlm_run), str(lm_run)} <= runs_offered()  # both can take a classification head
    wizard.task.setCurrentIndex(wizard.task.findData("summarize"))  # a task whose default run is longer
    assert wizard.field("max_steps").value() == RunConfig.for_task("summarize").max_steps > RunConfig().max_steps
    summarizing = wizard.validate()
    assert summarizing.max_steps == RunConfig.for_task("summarize").max_steps
    assert "--max-steps" not in command_line(summarizing)
    wizard.task.setCurrentIndex(wizard.task.findData("classify"))
    assert (wizard.field("max_steps").value(), wizard.field("eval_every").value()) == (RunConfig().max_steps, RunConfig().eval_every)


@pytest.fixture
def playground(window, monkeypatch, workspace_dir):
    monkeypatch.setenv("STUDIO_WORKSPACE", str(workspace_dir))
    window.tabs.setCurrentWidget(window.playground_panel)
    return window.playground_panel


def test_fill_mask_view_inserts_masks_and_fills_them_in(playground, qtbot, mlm_run):
    load_model(qtbot, playground.pickers[0], mlm_run)
    assert playground.input.insert_mask.isVisible() and playground.run_button.text() == "Fill In"
    column = playground.answers["masks"][0]
    playground.prompt.setPlainText("def ")
    playground.prompt.moveCursor(playground.prompt.textCursor().MoveOperation.End)
    playground.input.insert_mask.click()
    qtbot.keyClicks(playground.prompt, "(x): return ")
    playground.input.insert_mask.click()
    assert playground.prompt.toPlainText() == "def [MASK](x): return [MASK]"
    qtbot.waitUntil(lambda: column.result is not None and len(column.result.masks) == 2, timeout=TIMEOUT)
    expected = fill(inference.load(str(mlm_run)), "def [MASK](x): return [MASK]", top_k=8)
    assert [[c.id for c in mask] for mask in column.result.masks] == [[c.id for c in mask] for mask in expected.masks]
    assert column.table.columnCount() == 2 and column.table.rowCount() == 8
    reading = column.reading.text()  # the whole text as the model reads it, each mask's best in bold
    assert reading.count("<b ") == 2 and "(x): return " in reading and "[MASK]" not in reading
    first = column.result.masks[0][0].token
    column.table.cellClicked.emit(0, 0)
    assert playground.prompt.toPlainText() == f"def {first.lstrip()}(x): return [MASK]"
    qtbot.waitUntil(lambda: column.result is not None and len(column.result.masks) == 1, timeout=TIMEOUT)


def test_tag_view_colours_the_entities(playground, qtbot, tag_run):
    load_model(qtbot, playground.pickers[0], tag_run)
    column = playground.answers["tags"][0]
    assert playground.run_button.text() == "Tag" and "PER" in column.legend.text()
    text = "Alice lives in Paris with Jean Luc"
    playground.prompt.setPlainText(text)
    qtbot.waitUntil(lambda: column.result is not None and column.result.text == text, timeout=TIMEOUT)
    expected = tag(inference.load(str(tag_run)), text)
    assert [(e.label, e.start, e.end) for e in column.result.entities] == [(e.label, e.start, e.end)
                                                                           for e in expected.entities]
    assert column.table.rowCount() == len(expected.entities) and "vertical-align:sub" in column.text.toHtml()
    shown = column.text.entities[0]
    assert column.text.entity_at(shown.start).label == expected.entities[0].label
    playground.run_button.click()  # an explicit Tag goes into the history
    qtbot.waitUntil(lambda: bool(playground.history.entries and playground.history.entries[-1].outputs),
                    timeout=TIMEOUT)
    assert expected.entities[0].text in playground.history.entries[-1].outputs[0].text
    playground.prompt.setPlainText("")  # the text is gone: its entities must not stay on screen
    assert column.result is None and column.table.rowCount() == 0 and not column.text.toPlainText()


@pytest.mark.slow
def test_the_taggers_report_and_a_fine_tune_against_its_twin_from_scratch(window, qtbot, tag_run, mlm_run,
                                                                          labelled_csv, monkeypatch, tmp_path):
    root = workspace.runs_dir(workspace.workspace())
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(tag_run, root / "tagger")
    shutil.copytree(mlm_run, root / "pretrained")
    args = [a if a != "bert-tiny" else str(root / "pretrained") for a in TINY_CLS if a not in ("--vocab-size", "400")]
    assert train_cli(workspace.workspace(), root / "tuned", labelled_csv, args) == 0
    panel = window.train_panel
    window.tabs.setCurrentWidget(panel)
    panel.refresh_runs()
    listed(qtbot, panel.runs)
    panel.runs.select(["tagger"])
    panel.runs.open_button.click()
    view = panel.monitor.report_views["tags"]
    assert view.isVisible() and panel.monitor.report_views["labels"].isHidden()
    assert {view.table.item(r, 0).text() for r in range(view.table.rowCount())} == {"PER", "LOC"}
    assert "Entity F1" in [m.title for m in panel.monitor.headline]

    panel.tabs.setCurrentIndex(2)
    panel.runs.select(["tuned"])
    row = next(r for r in range(panel.runs.table.rowCount()) if panel.runs.table.item(r, 0).text() == "tuned")
    assert panel.runs.table.item(row, 2).text() == "← pretrained"
    panel.runs.table.setCurrentCell(row, 0)
    assert panel.runs.actions["scratch"].isEnabled()
    panel.runs.actions["scratch"].trigger()
    assert set(panel.monitor.curves.overlays) == {"tuned"}
    qtbot.waitUntil(lambda: not panel.training, timeout=TIMEOUT)
    assert panel.monitor.error.isHidden(), panel.monitor.error.text()
    scratch = reader.read(Path(panel.monitor.run_dir))
    config = layout.read_config(Path(scratch.path))
    assert scratch.status == "completed" and scratch.base is None
    assert config["model"] == "bert-tiny" and config["tokenizer"] == str(root / "pretrained" / "tokenizer")
    assert ("tuned", "eval_accuracy") in panel.monitor.curves.overlay_metric_curves  # the fine-tune, drawn over it
    figures = panel.monitor.figures  # the tagger's figures gave way to the classifier's, none left behind
    titles = [figures.itemAt(i).widget().text() for i in range(figures.count()) if figures.itemAt(i).widget()]
    assert "Entity F1" not in titles and titles.count("Accuracy") == 1 and "Macro F1" in titles
    from PySide6.QtWidgets import QLabel

    assert not [w for w in panel.monitor.findChildren(QLabel) if w.text() == "Entity F1" and w.isVisible()]
