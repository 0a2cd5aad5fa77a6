"""Classification in the window, as a person goes through it: a `text,label` file opens as
classification with its label counts; a run shows accuracy and F1, its confusion matrix and mistakes;
a mistake opens in the Playground, which shows every label's probability as the person types and
classifies lines in a batch; the Attention panel shows what the prediction rests on."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PySide6.QtCore import Qt

from studio.core.playground.classification import classify
from studio.core.tasks import loaded as inference
from tests.ui.helpers import TIMEOUT, listed, load_model


def _open(window, qtbot, source) -> None:
    panel = window.data_panel
    panel.open_source(str(source))
    qtbot.waitUntil(lambda: panel.preview is not None and not panel.busy, timeout=TIMEOUT)


def test_a_labelled_file_opens_as_classification_with_its_label_counts(window, qtbot, labelled_csv, tmp_path):
    panel = window.data_panel
    _open(window, qtbot, labelled_csv)
    assert panel.current_task() == "classify" and panel.columns() == {"text": "text", "label": "label"}
    box = panel.columns_box
    qtbot.waitUntil(lambda: "classes" in box.labels_summary.text(), timeout=TIMEOUT)
    assert box.labels_summary.text().startswith("3 classes in 300 rows") and box.labels_warning.isHidden()
    assert box.labels_box.isVisible() and box._chart.isVisible()
    wizard = window.train_panel.wizard
    assert wizard.task.currentData() == "classify" and wizard.model.preset.currentData() == "bert-tiny"
    assert "--label-column label" in wizard.command.toPlainText() or wizard.config().label_column == "label"

    skewed = tmp_path / "skewed.csv"
    with skewed.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["review", "sentiment"])
        writer.writerows([[f"good {i}", "pos"] for i in range(60)] + [["bad", "neg"]] * 2 + [["no label", ""]] * 3)
    _open(window, qtbot, skewed)
    qtbot.waitUntil(lambda: "2 classes" in box.labels_summary.text(), timeout=TIMEOUT)
    assert "3 rows have no label and are left out" in box.labels_summary.text()
    assert "'neg' has fewer than 5 rows" in box.labels_warning.text() and "30×" in box.labels_warning.text()


def test_a_label_column_that_cannot_be_one_is_said_where_it_was_chosen(window, qtbot, tmp_path):
    one = tmp_path / "one.csv"
    one.write_text("text,label\n" + "".join(f"row {i},same\n" for i in range(20)))
    _open(window, qtbot, one)
    errors = window.data_panel.columns_box.mapping_error
    qtbot.waitUntil(lambda: not errors.isHidden(), timeout=TIMEOUT)
    assert "only the label 'same'" in errors.text() and "the Label column box" in errors.text()
    assert not window.data_panel.tokens_box.train_button.isEnabled()


@pytest.mark.slow
def test_training_a_classifier_shows_its_metrics_report_and_mistakes(window, qtbot, labelled_csv):
    _open(window, qtbot, labelled_csv)
    window.data_panel.tokens_box.vocab.setValue(300)
    wizard = window.train_panel.wizard
    wizard.set_values(seq_len=32, batch_size=16, max_steps=30, eval_every=15, save_every=15)
    wizard.device.setCurrentIndex(wizard.device.findData("cpu"))
    window.tabs.setCurrentWidget(window.train_panel)
    wizard.start.click()
    panel = window.train_panel
    qtbot.waitUntil(lambda: not panel.training, timeout=TIMEOUT)
    monitor = panel.monitor
    assert monitor.error.isHidden(), monitor.error.text()
    assert monitor.to_playground.isVisible(), monitor.status.text()
    assert [m.name for m in monitor.headline] == ["eval_accuracy", "eval_f1"]
    assert monitor.labels["eval_accuracy"].text().endswith("%")
    xs, ys = monitor.curves.metric_curves["eval_accuracy"].getData()
    assert list(xs) == [15, 30] and all(0 <= y <= 1 for y in ys)
    report = monitor.report_views["labels"]
    assert report.isVisible() and "step 30" in report.title.text()
    matrix = np.array(report.report["confusion_matrix"]["matrix"])
    assert matrix.sum() == 15 and report.image.image.shape == (3, 3)  # 5% of 300, stratified
    assert report.table.rowCount() == matrix.sum() - np.trace(matrix)
    listed(qtbot, panel.runs, *window.playground_panel.pickers, window.attention_panel.picker)
    assert "accuracy" in panel.runs.table.item(0, 5).text().lower()

    for picker in (*window.playground_panel.pickers, window.attention_panel.picker):  # lists follow the run
        assert any("Text classification · final" in picker.combo.itemText(i) for i in range(picker.combo.count()))
    if report.table.rowCount():
        text = report.table.item(0, 0).data(Qt.ItemDataRole.UserRole)
        report.choose(0)
        playground = window.playground_panel
        assert window.tabs.currentWidget() is playground and playground.prompt.toPlainText() == text
        qtbot.waitUntil(lambda: playground.answers["labels"][0].result is not None, timeout=TIMEOUT)
        assert playground.answers["labels"][0].result.text == text
    monitor.to_attention.click()
    attention = window.attention_panel
    qtbot.waitUntil(lambda: attention.picker.model is not None, timeout=TIMEOUT)
    assert window.tabs.currentWidget() is attention and attention.picker.model.task.name == "classify"


@pytest.fixture
def playground(window, monkeypatch, workspace_dir):
    monkeypatch.setenv("STUDIO_WORKSPACE", str(workspace_dir))
    window.tabs.setCurrentWidget(window.playground_panel)
    return window.playground_panel


def test_playground_labels_follow_the_typing_and_a_batch_exports(playground, qtbot, cls_run, lm_run, tmp_path):
    load_model(qtbot, playground.pickers[0], cls_run)
    assert playground.run_button.text() == "Classify" and not playground.form.isVisible()
    column = playground.answers["labels"][0]
    assert column.chart.isHidden()  # no bare axes before there is a probability to draw
    qtbot.keyClicks(playground.prompt, "open the file")
    qtbot.waitUntil(lambda: column.result is not None and column.result.text == "open the file", timeout=TIMEOUT)
    expected = classify(inference.load(str(cls_run)), "open the file")
    assert column.result.label == expected.label
    assert max(abs(column.result.scores[k] - expected.scores[k]) for k in expected.scores) < 1e-5
    assert column.answer_label.text().startswith(expected.label) and not column.chart.isHidden()
    playground.prompt.setPlainText("open the file and read it")  # typed and asked at once: two answers come
    playground.run_button.click()  # asked: the history says its label and score, not a count of tokens
    history = playground.history
    qtbot.waitUntil(lambda: bool(history.entries and history.entries[-1].outputs), timeout=TIMEOUT)
    qtbot.wait(600)  # the answer to the text as typed comes in after it
    shown = history.list.item(0).text()
    label = classify(inference.load(str(cls_run)), "open the file and read it").label
    assert f"({label} (" in shown and "%)" in shown and "tok" not in shown
    assert len(history.entries[-1].outputs) == 1 and shown.count("%)") == 1  # one answer, one model

    playground.prompt.setPlainText("send the request\n\nsquare root\nopen a folder")
    playground.batch.run_button.click()
    qtbot.waitUntil(lambda: not playground.batch.running and bool(playground.batch.predictions), timeout=TIMEOUT)
    table = playground.batch.table
    assert table.rowCount() == 3 and table.columnCount() == 6
    assert table.columnWidth(0) > table.columnWidth(1)  # the text takes the room the figures leave
    table.sortItems(2, Qt.SortOrder.DescendingOrder)
    scores = [table.item(r, 2).value for r in range(3)]
    assert scores == sorted(scores, reverse=True)
    assert playground.batch.export_to(tmp_path / "p.csv")
    rows = list(csv.DictReader((tmp_path / "p.csv").open()))
    assert [r["text"] for r in rows] == ["send the request", "square root", "open a folder"]
    assert set(rows[0]) == {"text", "label", "score", "files", "maths", "network"}

    playground.compare.setChecked(True)
    load_model(qtbot, playground.pickers[1], lm_run)
    playground.run_button.click()
    assert "do different things" in playground.run_error.text()


def test_attention_of_an_encoder_with_special_tokens_hidden_and_the_prediction_explained(window, qtbot, cls_run,
                                                                                          monkeypatch, workspace_dir):
    monkeypatch.setenv("STUDIO_WORKSPACE", str(workspace_dir))
    panel = window.attention_panel
    window.tabs.setCurrentWidget(panel)
    load_model(qtbot, panel.picker, cls_run)
    panel.text.setPlainText("open the file and read the bytes")
    panel.extract_button.click()
    qtbot.waitUntil(lambda: not panel.extracting and panel.kind.count(), timeout=TIMEOUT)
    assert panel.kind.currentText() == "Self-attention (bidirectional)"
    tokens = panel.heatmap.rows
    assert tokens[0] == "[CLS]" and tokens[-1] == "[SEP]"
    full = panel.heatmap.image.image.copy()
    assert not np.allclose(np.triu(full, k=1), 0)  # bidirectional: tokens see what follows them
    panel.hide_special.setChecked(True)
    assert panel.heatmap.rows == tokens[1:-1]
    np.testing.assert_allclose(panel.heatmap.image.image, full[1:-1, 1:-1])
    panel.hide_special.setChecked(False)

    assert panel.bottom.isTabVisible(1) and panel.bottom.currentWidget() is panel.attribution
    view = panel.attribution
    assert view.attribution.isHidden() and view.attention.isHidden()  # no empty strips before a result
    view.explain_button.click()
    assert "Explaining the predicted label with integrated gradients" in view.prediction.text()
    qtbot.waitUntil(lambda: not view.running and view.result is not None, timeout=TIMEOUT)
    assert view.attribution.isVisible() and view.attention.isVisible()
    assert view.result.tokens == tokens and len(view.result.scores) == len(tokens)
    assert view.result.delta is not None and view.result.delta < 0.05  # the steps account for the score
    assert view.attention.tokens == tokens and "[CLS]" in view.attention_caption.text()
    assert "Spearman" in view.agreement.text()
    np.testing.assert_allclose(view.attention.weights, full[0])
