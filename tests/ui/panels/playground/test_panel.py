"""The Playground as a person uses it: pick models, generate and summarize, stop, compare, export."""

from __future__ import annotations

import json
import math
import time

import pytest
import torch
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QToolTip, QWidget

from studio.cli import build_parser, main
from studio.core.playground import generation
from tests.ui.helpers import TIMEOUT, listed, load_model


@pytest.fixture
def panel(window, monkeypatch, workspace_dir):
    monkeypatch.setenv("STUDIO_WORKSPACE", str(workspace_dir))
    window.tabs.setCurrentIndex(2)
    return window.playground_panel


def _run(qtbot, panel) -> None:
    panel.run_button.click()
    qtbot.waitUntil(lambda: not panel.generating and panel.run_button.isEnabled(), timeout=TIMEOUT)


@pytest.fixture
def slow_stream(monkeypatch):
    """Each streamed piece takes 20 ms, so a test can act while a generation is still running."""
    calls = {"n": 0}
    add = generation._Pieces.add

    def slow(self, token_id):
        calls["n"] += 1
        time.sleep(0.02)
        return add(self, token_id)

    monkeypatch.setattr(generation._Pieces, "add", slow)
    return calls


def test_controls_are_named_and_explained(panel):
    for name in ("modelACombo", "modelABrowse", "modelALoad", "compareCheck", "presetCombo", "greedyCheck",
                 "temperatureSpin", "topKSpin", "topPSpin", "repetitionSpin", "maxTokensSpin", "seedSpin",
                 "beamsSpin", "minTokensSpin", "lengthPenaltySpin", "colourCheck", "promptEdit", "openTextButton",
                 "runButton", "stopButton", "historyList", "copyHistoryButton", "exportHistoryButton"):
        widget = panel.findChild(QWidget, name)
        assert widget is not None, name
        if name not in ("promptEdit", "historyList"):
            assert widget.toolTip(), f"{name} has no tooltip"


def test_picker_lists_runs_and_their_checkpoints(panel, qtbot, lm_run):
    picker = panel.pickers[0]
    picker.refresh()
    listed(qtbot, picker)
    labels = [picker.combo.itemText(i) for i in range(picker.combo.count())]
    assert any(label.startswith("gpt-tiny · Language modelling · final") for label in labels), labels
    assert any(label.startswith("gpt-tiny · Language modelling · step 24") for label in labels)
    picker.combo.setCurrentIndex(labels.index(next(x for x in labels if "Language modelling · step 16" in x)))
    assert picker.source().endswith("checkpoint-16") and "lm-run" in picker.combo.toolTip()


def test_run_without_a_model_says_what_to_do(panel):
    panel.run_button.click()
    assert "Load a model first" in panel.run_error.text() and panel.run_button.isEnabled()


def test_greedy_output_equals_the_cli_and_plain_generate(panel, qtbot, lm_run, capsys):
    load_model(qtbot, panel.pickers[0], lm_run)
    assert "language model" in panel.pickers[0].info.text() and panel.run_button.text() == "Generate"
    panel.form.greedy.setChecked(True)
    panel.form.max_tokens.setValue(12)
    panel.prompt.setPlainText("def ")
    panel.prompt.setFocus()
    qtbot.keyClick(panel.prompt, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # the Run shortcut
    qtbot.waitUntil(lambda: panel.columns[0].result is not None and not panel.generating, timeout=TIMEOUT)
    shown = [t.id for t in panel.columns[0].result.tokens]
    capsys.readouterr()
    assert main(["generate", "--model", str(lm_run), "--prompt", "def ", "--max-new-tokens", "12", "--greedy",
                 "--json"]) == 0
    cli = [t["id"] for t in json.loads(capsys.readouterr().out)["tokens"]]
    loaded = panel.pickers[0].model
    ids = loaded.tokenizer("def ", add_special_tokens=False)["input_ids"]
    with torch.inference_mode():
        plain = loaded.model.generate(torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                                      do_sample=False, max_new_tokens=12, pad_token_id=loaded.tokenizer.pad_token_id)
    assert shown == cli == plain[0, len(ids):].tolist()
    view = panel.columns[0].view.toPlainText()
    assert view == "def " + panel.columns[0].result.text
    assert "tokens/s" in panel.columns[0].figures.text() and "first token" in panel.columns[0].figures.text()


def test_stop_mid_stream_keeps_what_was_shown(panel, qtbot, lm_run, slow_stream, monkeypatch):
    load_model(qtbot, panel.pickers[0], lm_run)
    panel.form.greedy.setChecked(True)
    panel.form.max_tokens.setValue(80)
    panel.prompt.setPlainText("def ")
    panel.run_button.click()
    qtbot.waitUntil(lambda: len(panel.columns[0].view.toPlainText()) > len("def ") + 3, timeout=TIMEOUT)
    assert panel.stop_button.isEnabled() and not panel.run_button.isEnabled()
    emitted = slow_stream["n"]
    scored = []
    monkeypatch.setattr(generation, "score", lambda *a: scored.append(a) or ([], []))
    panel.stop_button.click()
    assert not panel.stop_button.isEnabled() and panel.columns[0].figures.text() == "Stopping…"  # said at once
    qtbot.waitUntil(lambda: not panel.generating and panel.run_button.isEnabled(), timeout=TIMEOUT)
    result = panel.columns[0].result
    assert result.finish_reason == "stopped" and "stopped" in panel.columns[0].figures.text()
    assert len(result.tokens) <= emitted + 1 < 80
    assert not scored and result.tokens[0].logprob is None  # no pass over the whole text after a stop


def test_switching_models_during_generation(panel, qtbot, lm_run, sum_run, slow_stream):
    load_model(qtbot, panel.pickers[0], lm_run)
    panel.form.max_tokens.setValue(80)
    panel.form.greedy.setChecked(True)
    panel.prompt.setPlainText("def ")
    panel.run_button.click()
    qtbot.waitUntil(lambda: len(panel.columns[0].view.toPlainText()) > len("def ") + 2, timeout=TIMEOUT)
    load_model(qtbot, panel.pickers[0], sum_run)
    qtbot.waitUntil(lambda: not panel.generating, timeout=TIMEOUT)
    qtbot.wait(300)  # a token still on its way from the stopped generation must not land
    column = panel.columns[0]
    assert column.result is None and column.view.toPlainText() == ""  # not the old model's text, new name
    assert "sum-run" in column.title.text()
    assert panel.mode == "summarize" and panel.run_button.text() == "Summarize"
    assert panel.form.beams.isVisible() and panel.input.prompt_label.text() == "<b>Text to summarize</b>"
    panel.prompt.setPlainText("def add(x, y):\n    return x + y")
    _run(qtbot, panel)
    assert panel.columns[0].result.finish_reason in ("eos", "length") and panel.columns[0].title.text()


def test_a_model_folder_that_fails_to_load(panel, qtbot, tmp_path, lm_run):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    picker = panel.pickers[0]
    load_model(qtbot, picker, broken)
    assert picker.model is None and not picker.error.isHidden() and picker.error.text()
    assert picker.load_button.isEnabled()
    load_model(qtbot, picker, tmp_path / "missing")
    assert picker.model is None and picker.error.text()
    load_model(qtbot, picker, lm_run)
    assert picker.model is not None and picker.error.isHidden()


def test_summarize_with_beams_lengths_and_a_text_file(panel, qtbot, sum_run, tmp_path):
    load_model(qtbot, panel.pickers[0], sum_run)
    form = panel.form
    assert form.beams.value() == 4 and not form.greedy.isEnabled() and not form.temperature.isEnabled()
    assert form.temperature.toolTip().startswith("Off: beam search")  # greyed out, and says why
    form.beams.setValue(1)
    assert form.temperature.isEnabled() and not form.temperature.toolTip().startswith("Off")
    form.beams.setValue(4)
    cli = build_parser().parse_args(["summarize", "--model", "m", "--text", "t"])
    assert (form.beams.value(), form.no_repeat.value()) == (cli.num_beams, cli.no_repeat_ngram_size) == (4, 3)
    assert form.no_repeat.isVisible() and form.sampling().no_repeat_ngram_size == 3
    binary = tmp_path / "bin.txt"
    binary.write_bytes(b"\xff\xfe\x00bad")
    panel.input.open_text_file(binary)
    assert "not UTF-8" in panel.run_error.text()
    source = tmp_path / "source.txt"
    source.write_text("def total(x, y):\n    total = x + y\n    return total * 2\n", encoding="utf-8")
    panel.input.open_text_file(source)
    assert panel.run_error.isHidden() and panel.prompt.toPlainText().startswith("def total")
    form.beams.setValue(2)
    form.min_tokens.setValue(3)
    form.max_tokens.setValue(8)
    form.length_penalty.setValue(1.5)
    sampling = form.sampling()
    assert (sampling.num_beams, sampling.min_new_tokens, sampling.max_new_tokens, sampling.length_penalty) == \
        (2, 3, 8, 1.5)
    _run(qtbot, panel)
    result = panel.columns[0].result
    assert 3 <= len(result.tokens) <= 8 and panel.columns[0].view.toPlainText() == result.text
    assert " s ·" in panel.columns[0].figures.text()
    panel.prompt.setPlainText("   ")
    panel.run_button.click()
    assert "no text to summarize" in panel.run_error.text()


def test_token_probabilities_hover_and_regenerate_from_an_alternative(panel, qtbot, lm_run):
    load_model(qtbot, panel.pickers[0], lm_run)
    panel.form.greedy.setChecked(True)
    panel.form.max_tokens.setValue(10)
    panel.prompt.setPlainText("def ")
    _run(qtbot, panel)
    view = panel.columns[0].view
    assert "background-color" not in view.toHtml()
    panel.colour.setChecked(True)
    assert "background-color" in view.toHtml()
    tip = view.alternatives_html(0)
    assert "%" in tip and "Click to continue" in tip
    # the point where the first output token is drawn maps back to that token
    cursor = view.textCursor()
    cursor.setPosition(len("def ") + max(0, len(view.tokens[0].text) // 2))
    rect = view.cursorRect(cursor)
    index = view.token_at(rect.center())
    assert index in (0, 1)
    qtbot.mouseMove(view.viewport(), rect.center())  # hovering shows the alternatives as a tooltip
    qtbot.waitUntil(lambda: "Click to continue" in QToolTip.text(), timeout=TIMEOUT)
    first = panel.columns[0].result.tokens
    menu = view.alternatives_menu(2)
    actions = [a for a in menu.actions() if not a.isSeparator()]
    assert actions and "%" in actions[0].text()
    chosen = first[2].alternatives[1].id
    actions[0].trigger()
    qtbot.waitUntil(lambda: not panel.generating and panel.columns[0].result is not first and
                    panel.columns[0].result is not None, timeout=TIMEOUT)
    again = panel.columns[0].result.tokens
    assert [t.id for t in again[:2]] == [t.id for t in first[:2]] and again[2].id == chosen
    assert "background-color" in view.toHtml()
    assert len(panel.history.entries) == 2 and panel.history.entries[0].outputs


def test_side_by_side_history_copy_and_export(panel, qtbot, lm_run, tmp_path):
    panel.compare.setChecked(True)
    assert panel.columns[1].isVisible() and panel.pickers[1].isVisible()
    for picker, source in zip(panel.pickers, (lm_run, lm_run / "checkpoints" / "checkpoint-8")):
        picker.choose(str(source))
        picker.load()  # both at once, as a person clicking the two Load buttons quickly
    qtbot.waitUntil(lambda: not any(p.loading for p in panel.pickers), timeout=TIMEOUT)
    assert all(p.model is not None for p in panel.pickers), [p.error.text() for p in panel.pickers]
    panel.form.greedy.setChecked(True)
    panel.form.max_tokens.setValue(8)
    panel.prompt.setPlainText("def ")
    _run(qtbot, panel)
    a, b = (c.result for c in panel.columns)
    assert a is not None and b is not None and a.finish_reason != "stopped"
    entry = panel.history.entries[-1]
    assert len(entry.outputs) == 2 and {o.model for o in entry.outputs} == {"lm-run", "lm-run · step 8"}
    panel.history.list.setCurrentRow(0)
    panel.history.copy_button.click()
    assert "def " in QApplication.clipboard().text() and "step 8" in QApplication.clipboard().text()
    assert panel.history.export_to(tmp_path / "s.json") and panel.history.export_to(tmp_path / "s.txt")
    data = json.loads((tmp_path / "s.json").read_text())
    assert data[0]["prompt"] == "def " and len(data[0]["outputs"]) == 2 and data[0]["settings"]["greedy"]
    assert "step 8" in (tmp_path / "s.txt").read_text()
    assert not panel.history.export_to(tmp_path / "no" / "such" / "s.txt")
    assert "does not exist" in panel.history.error.text() and not (tmp_path / "no").exists()
    panel.prompt.setPlainText("")
    panel.history.reuse.emit(entry)
    assert panel.prompt.toPlainText() == "def "


def test_presets_greedy_and_seed(panel):
    form = panel.form
    form.preset.setCurrentIndex(form.preset.findData("precise"))
    assert math.isclose(form.temperature.value(), 0.3) and form.top_k.value() == 20
    form.temperature.setValue(0.55)
    assert form.preset.currentData() == "custom"
    form.seed.setValue(5)
    assert form.sampling().seed == 5 and form.seed.text() == "5"
    form.seed.setValue(-1)
    assert form.sampling().seed is None and form.seed.text() == "random"
    form.greedy.setChecked(True)
    assert not form.temperature.isEnabled() and form.sampling().greedy


def test_a_translator_translates_as_you_type_with_its_commands_defaults(panel, qtbot, tmp_path):
    rows = [{"source": f"file {w} not found", "target": f"Datei {w} nicht gefunden"} for w in
            ("alpha", "beta", "gamma", "delta", "index", "path", "data", "token") * 10]
    data = tmp_path / "pairs.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    run = tmp_path / "translate-run"
    assert main(["train", "--task", "translate", "--data", str(data), "--out", str(run), "--vocab-size", "300",
                 "--seq-len", "16", "--target-len", "12", "--batch-size", "16", "--max-steps", "6",
                 "--eval-every", "6", "--save-every", "6", "--device", "cpu"]) == 0
    load_model(qtbot, panel.pickers[0], run)
    assert panel.run_button.text() == "Translate" and panel.form.beams.value() == 4
    assert panel.form.no_repeat.value() == build_parser().parse_args(
        ["translate", "--model", "m", "--text", "t"]).no_repeat_ngram_size == 0
    panel.prompt.setPlainText("file alpha not found")  # no button: a pause in typing asks
    qtbot.waitUntil(lambda: panel.columns[0].result is not None and not panel.generating, timeout=TIMEOUT)
    assert panel.columns[0].view.toPlainText() == panel.columns[0].result.text


def test_a_question_is_answered_from_the_context_as_you_type_and_equals_the_cli(panel, qtbot, qa_run, capsys):
    load_model(qtbot, panel.pickers[0], qa_run)
    assert panel.run_button.text() == "Answer" and panel.pair.isVisible() and "Context" in panel.input.pair_label.text()
    column = panel.answers["answers"][0]
    panel.prompt.setPlainText("Where does Alice live?")
    _run(qtbot, panel)
    assert "There is no context" in panel.run_error.text()  # a question alone cannot be answered
    context = "Alice lives in Paris. Bob works in Lima. Alice has 4 cats."
    panel.pair.setPlainText(context)  # no button: a pause in typing asks
    qtbot.waitUntil(lambda: column.result is not None and column.result.context == context, timeout=TIMEOUT)
    best = column.result.answers[0]
    assert best.text in column.answer_label.text() and 1 < column.table.rowCount() <= len(column.result.answers)
    assert best.text in column.context.toPlainText() and 'background-color:#e0a33a' in column.context.toHtml()
    capsys.readouterr()
    assert main(["answer", "--model", str(qa_run), "--question", "Where does Alice live?", "--context", context,
                 "--top-k", "5", "--json"]) == 0
    assert [a["text"] for a in json.loads(capsys.readouterr().out)["answers"]] == \
        [a.text for a in column.result.answers]
