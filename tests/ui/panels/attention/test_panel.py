"""The Attention inspector: what it shows equals plain transformers; every control; probes; export."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch
from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QWidget

from studio.core.attention import probe as attention_probe
from studio.core.tasks import loaded as inference
from tests.ui.helpers import TIMEOUT, load_model

TEXT = "def total(x, y):\n    return x + y"


@pytest.fixture
def panel(window, monkeypatch, workspace_dir):
    monkeypatch.setenv("STUDIO_WORKSPACE", str(workspace_dir))
    window.tabs.setCurrentIndex(3)
    return window.attention_panel


def _extract(qtbot, panel, text=TEXT, target="") -> None:
    panel.text.setPlainText(text)
    panel.target.setPlainText(target)
    panel.extract_button.click()
    qtbot.waitUntil(lambda: not panel.extracting and panel.extract_button.isEnabled(),
                    timeout=TIMEOUT)


def test_controls_are_named_and_explained(panel):
    for name in ("attentionModelCombo", "attentionText", "extractButton", "attentionKind", "layerSpin", "headCombo",
                 "colourMapCombo", "logScaleCheck", "sortCombo", "filterSpin", "probeSlider", "exportPngButton",
                 "exportCsvButton", "exportNpzButton"):
        widget = panel.findChild(QWidget, name)
        assert widget is not None, name
        if name != "attentionText":
            assert widget.toolTip(), name
    assert panel.findChild(QWidget, "attentionEmpty").isVisible()


def test_extract_without_a_model_or_text_says_what_to_do(panel, qtbot, lm_run):
    panel.extract_button.click()
    assert "Load a model first" in panel.error.text()
    load_model(qtbot, panel.picker, lm_run)
    assert panel.error.isHidden()  # answered: the model is loaded
    _extract(qtbot, panel, text="   ")
    assert "no text to look at" in panel.error.text() and panel.extract_button.isEnabled()


def test_gpt_maps_equal_plain_transformers_for_every_layer_and_head(panel, qtbot, lm_run):
    load_model(qtbot, panel.picker, lm_run)
    assert not panel.target.isVisible()
    _extract(qtbot, panel)
    assert panel.error.isHidden() and panel.kind.count() == 1
    plain_model = inference.load(str(lm_run), attn_implementation="eager")
    ids = plain_model.tokenizer(TEXT, add_special_tokens=False)["input_ids"]
    with torch.inference_mode():
        plain = plain_model.model(input_ids=torch.tensor([ids]), output_attentions=True).attentions
    for layer in range(2):
        panel.layer.setValue(layer)
        for head in range(4):
            panel.head.setCurrentIndex(panel.head.findData(head))
            shown = panel.heatmap.image.image
            np.testing.assert_allclose(shown, plain[layer][0, head].numpy(), atol=1e-6)
            np.testing.assert_allclose(shown.sum(-1), 1.0, atol=1e-5)
    assert len(panel.heatmap.rows) == len(ids)
    assert "→" in panel.heatmap.describe(3, 1) and ": 0." in panel.heatmap.describe(3, 1)
    from PySide6.QtCore import QPointF

    view_box = panel.heatmap.plot.getPlotItem().vb
    panel.heatmap.plot.scene().sigMouseMoved.emit(view_box.mapViewToScene(QPointF(1.5, 3.5)))  # column 1, row 3
    assert panel.heatmap.readout.text() == panel.heatmap.describe(3, 1)


def test_bart_encoder_decoder_and_cross_equal_plain_transformers(panel, qtbot, sum_run):
    load_model(qtbot, panel.picker, sum_run)
    assert panel.target.isVisibleTo(panel)
    _extract(qtbot, panel, target="Return the total.")
    kinds = [panel.kind.itemData(i) for i in range(panel.kind.count())]
    assert kinds == ["encoder", "decoder", "cross"]
    model = inference.load(str(sum_run), attn_implementation="eager")
    tok = model.tokenizer
    enc = tok(TEXT)["input_ids"]  # as plain transformers encodes it: <s> text </s>
    assert tok.convert_ids_to_tokens(enc)[0] == "<s>" and tok.convert_ids_to_tokens(enc)[-1] == "</s>"
    dec = [model.model.generation_config.decoder_start_token_id] + tok("Return the total.")["input_ids"]
    with torch.inference_mode():
        out = model.model(input_ids=torch.tensor([enc]), decoder_input_ids=torch.tensor([dec]), output_attentions=True)
    plain = {"encoder": out.encoder_attentions, "decoder": out.decoder_attentions, "cross": out.cross_attentions}
    for kind, arrays in plain.items():
        panel.kind.setCurrentIndex(panel.kind.findData(kind))
        panel.layer.setValue(1)
        panel.head.setCurrentIndex(panel.head.findData(2))
        np.testing.assert_allclose(panel.heatmap.image.image, arrays[1][0, 2].numpy(), atol=1e-6)
    rollouts = [panel.head.itemData(i) for i in range(panel.head.count())]
    assert "rollout" not in rollouts  # cross-attention has no rollout
    _extract(qtbot, panel, target="")  # no target: the model's own answer is the decoder side
    assert panel.error.isHidden() and len(panel.current_kind()["rows"]) >= 1


def test_aggregates_log_scale_colours_and_grid(panel, qtbot, lm_run):
    load_model(qtbot, panel.picker, lm_run)
    _extract(qtbot, panel)
    weights = panel.current_kind()["weights"]
    panel.layer.setValue(1)
    panel.head.setCurrentIndex(panel.head.findData("mean"))
    np.testing.assert_allclose(panel.heatmap.image.image, weights[1].mean(0), atol=1e-6)
    panel.head.setCurrentIndex(panel.head.findData("max"))
    np.testing.assert_allclose(panel.heatmap.image.image, weights[1].max(0), atol=1e-6)
    panel.head.setCurrentIndex(panel.head.findData("rollout"))
    np.testing.assert_allclose(panel.heatmap.image.image.sum(-1), 1.0, atol=1e-5)
    panel.head.setCurrentIndex(panel.head.findData(1))
    panel.log.setChecked(True)
    assert panel.heatmap.image.image.max() <= 0 and panel.heatmap.image.image.min() >= -4.0001
    panel.colour_map.setCurrentText("inferno")
    assert panel.heatmap.bar.colorMap().name == "inferno"
    grid = panel.grid
    assert grid.order == [(layer, head) for layer in range(2) for head in range(4)]
    grid.plot.resize(600, 300)  # tiles wide enough to carry their names
    panel.sort.setCurrentIndex(panel.sort.findData("previous"))
    values = [panel.current_kind()["stats"]["previous"][p] for p in grid.order]
    assert values == sorted(values, reverse=True)
    first = grid.order[0]
    assert grid.labels[0].toPlainText() == f"L{first[0]} H{first[1]} {values[0]:.2f}"  # which head, and its score
    assert len(grid.labels) == 8
    grid.plot.resize(200, 100)
    panel.sort.setCurrentIndex(panel.sort.findData(None))
    assert grid.labels == []  # too narrow to write in: the hover tip says it
    panel.threshold.setValue(float(np.median(values)))
    assert np.nanmax(grid.image.image) <= 1.0
    layer, head = grid.order[0]
    assert grid.head_at(1, 1) == (layer, head) and grid.head_at(grid.tile[1] + 1, 1) == grid.order[1]
    assert grid.head_at(1, 1) and "previous-token share" in grid.describe(layer, head)
    grid.head_chosen.emit(0, 3)
    assert panel.layer.value() == 0 and panel.head.currentData() == 3


def test_token_focus_row_and_column(panel, qtbot, lm_run):
    load_model(qtbot, panel.picker, lm_run)
    _extract(qtbot, panel)
    focus = panel.focus
    matrix = panel.current_matrix()
    assert focus.shaded.isHidden() and focus.bars.isHidden()  # nothing to shade before a token is picked
    focus.choose(4)
    assert not focus.shaded.isHidden() and not focus.bars.isHidden()
    np.testing.assert_allclose(focus.weights(), matrix[4])
    assert "attends to" in focus.caption.text()
    focus.direction.setCurrentIndex(1)
    np.testing.assert_allclose(focus.weights(), matrix[:, 4])
    assert "attended by" in focus.caption.text()
    assert focus.pick.token_at_position(0) == 0 and focus.shaded.toHtml().count("background-color") >= 1


def test_probe_slider_walks_the_training_steps(panel, qtbot, lm_run):
    load_model(qtbot, panel.picker, lm_run / "checkpoints" / "checkpoint-16")
    assert panel.probe_box.isVisibleTo(panel)
    steps = [s for s, _ in attention_probe.recorded(lm_run)]
    assert panel.probe_box.slider.maximum() == len(steps) - 1
    panel.probe_box.slider.setValue(0)
    first = panel.heatmap.image.image.copy()
    assert "training step 0" in panel.heatmap.plot.getPlotItem().titleLabel.text
    heatmap = panel.heatmap
    heatmap._hover(heatmap.plot.getPlotItem().vb.mapViewToScene(QPointF(0.5, 3.5)))  # the mouse over row 3, column 0
    hovered = heatmap.readout.text()
    assert hovered.endswith(f"{first[3, 0]:.4f}")
    panel.layer.setValue(1)
    panel.head.setCurrentIndex(panel.head.findData(2))
    panel.probe_box.slider.setValue(len(steps) - 1)
    assert panel.layer.value() == 1 and panel.head.currentData() == 2  # the chosen head stays while sliding
    stored = attention_probe.load(attention_probe.recorded(lm_run)[-1][1])
    np.testing.assert_allclose(panel.heatmap.image.image, stored.attentions[1, 2])
    assert not np.allclose(first, panel.heatmap.image.image)
    # the read-out follows the map on screen, never a weight of a step no longer shown
    assert heatmap.readout.text() == heatmap.describe(3, 0) != hovered
    assert panel.text.toPlainText() == "def total(x, y):\n    return x + y"  # the text the map shows
    assert panel.grid.marked == (1, 2) and panel.grid._outline.isVisible()  # the head open, outlined
    panel.head.setCurrentIndex(panel.head.findData("mean"))
    assert panel.grid.marked is None and not panel.grid._outline.isVisible()
    panel.text.setPlainText("my own text")
    load_model(qtbot, panel.picker, lm_run)  # another model: a text the person typed is not replaced
    assert panel.text.toPlainText() == "my own text"
    assert panel.placeholder.isVisibleTo(panel) and not panel.heatmap.isVisibleTo(panel)  # nor the last model's map


def test_exports(panel, qtbot, lm_run, tmp_path):
    load_model(qtbot, panel.picker, lm_run)
    _extract(qtbot, panel)
    assert panel.export_png(tmp_path / "a.png") and (tmp_path / "a.png").stat().st_size > 1000
    assert panel.export_csv(tmp_path / "a.csv")
    rows = list(csv.reader((tmp_path / "a.csv").open(encoding="utf-8")))
    matrix = panel.current_matrix()
    assert len(rows) == matrix.shape[0] + 1 and len(rows[0]) == matrix.shape[1] + 1
    np.testing.assert_allclose(np.array(rows[1:])[:, 1:].astype(float), matrix, atol=1e-5)
    assert panel.export_npz(tmp_path / "a.npz")
    with np.load(tmp_path / "a.npz") as npz:
        assert npz["attentions"].shape == panel.current_kind()["weights"].shape
    assert not panel.export_csv(tmp_path / "missing" / "a.csv") and "does not exist" in panel.error.text()


def test_wizard_probe_text_reaches_the_config_and_command(window):
    wizard = window.train_panel.wizard
    wizard.set_values(probe_text="def add(a, b): return a + b")
    assert wizard.config().probe_text == "def add(a, b): return a + b"
    from studio.core.training.config import command_line

    assert "--probe-text 'def add(a, b): return a + b'" in command_line(wizard.validate())
    wizard.set_values(probe_text="x" * 2001)
    assert wizard.validate() is None and "probe text" in wizard.error.text()


def test_probe_steps_recorded_later_appear_when_the_panel_is_shown_again(window, panel, qtbot, lm_run, tmp_path):
    import shutil

    run = tmp_path / "copy"
    shutil.copytree(lm_run, run)
    load_model(qtbot, panel.picker, run / "model")
    before = panel.probe_box.slider.maximum()
    last = attention_probe.recorded(run)[-1][1]
    shutil.copy(last, last.with_name("step-00000999.npz"))  # what a running run writes at its next evaluation
    window.tabs.setCurrentIndex(1)
    window.tabs.setCurrentIndex(3)
    assert panel.probe_box.slider.maximum() == before + 1
    panel.probe_box.slider.setValue(panel.probe_box.slider.maximum())
    assert "Step 999" in panel.probe_box.label.text()


def _shown_at(window, qtbot, run, size):
    """The panel in a window of `size` with `run`'s attention shown, laid out."""
    panel = window.attention_panel
    window.resize(*size)
    window.tabs.setCurrentWidget(panel)
    load_model(qtbot, panel.picker, run)
    _extract(qtbot, panel)
    qtbot.wait(100)
    return panel


def test_the_heatmap_fits_its_view_at_the_default_size(window, qtbot, lm_run):
    """At the window's default size the map, its colour bar and its title all lie inside the view: the
    last columns, their labels and the step in the title were once cut off."""
    panel = _shown_at(window, qtbot, lm_run, (1200, 780))
    heatmap = panel.heatmap
    view = heatmap.plot.sceneRect()
    item = heatmap.plot.getPlotItem()
    for part in (item.vb, heatmap.bar, item.titleLabel, item.getAxis("bottom")):
        box = part.sceneBoundingRect()
        assert view.contains(box), (type(part).__name__, box, view)
    assert heatmap.plot.width() >= 300 and heatmap.plot.height() >= 250  # a map, not a sliver


def test_a_long_title_is_cut_and_never_pushes_the_colour_bar_out(qtbot):
    """A probe step's title at 1200 px was wider than the map: pyqtgraph's title claims its text's width,
    and the colour bar with its numbers went past the view's edge."""
    from studio.ui.panels.attention.heatmap import Heatmap

    heatmap = Heatmap()
    qtbot.addWidget(heatmap)
    heatmap.resize(420, 360)
    heatmap.show()
    tokens = [f"t{i}" for i in range(20)]
    title = "Self-attention (bidirectional) · layer 0 · head 0 · training step 1,000 · " + "x" * 60
    heatmap.show_matrix(np.eye(20, dtype=np.float32), tokens, tokens, title, False, "viridis")
    for width in (420, 360):
        heatmap.resize(width, 360)
        qtbot.wait(50)
        item = heatmap.plot.getPlotItem()
        view = heatmap.plot.sceneRect()
        for part in (heatmap.bar, item.titleLabel, item.vb):
            assert view.contains(part.sceneBoundingRect()), (width, type(part).__name__)
        shown = item.titleLabel.text
        assert shown.startswith("…") and shown.endswith("x") and heatmap.plot.toolTip() == title


def test_the_head_grid_fills_its_area_for_few_heads_and_many(qtbot):
    """Rows are layers when that draws the tiles largest; a small model in a tall column splits each layer
    over rows, a deep one in a wide column puts layers side by side, and sorted tiles wrap anywhere."""
    from studio.ui.panels.attention.head_grid import HeadGrid, fitted_columns

    assert fitted_columns(2, 4, (10, 10), (300, 300), free=False) == 4
    assert fitted_columns(2, 4, (10, 10), (200, 400), free=False) == 2  # tall: 4 rows of 2
    assert fitted_columns(30, 9, (10, 10), (600, 300), free=False) == 27  # wide: three layers a row
    assert fitted_columns(30, 9, (10, 10), (600, 300), free=False) % 9 == 0
    assert fitted_columns(1, 7, (10, 10), (100, 700), free=True) == 1
    grid = HeadGrid()
    qtbot.addWidget(grid)
    grid.resize(260, 600)
    grid.show()
    thumbs = np.random.default_rng(0).random((2, 4, 8, 8), dtype=np.float32)
    stats = {"entropy": np.arange(8, dtype=np.float32).reshape(2, 4)}
    grid.show_heads(thumbs, stats)
    assert grid.columns == 2 and "each layer takes 2 rows" in grid.info.text()
    assert grid.head_at(grid.tile[1] + 1, grid.tile[0] + 1) == (0, 3)  # second row, second tile
    grid.resize(500, 400)
    qtbot.wait(50)
    assert grid.columns == 4 and "rows are layers" in grid.info.text()  # laid out again on resize
    grid.resize(900, 200)
    qtbot.wait(50)
    assert grid.columns == 8 and "each row holds 2 layers" in grid.info.text()
    grid.mark((1, 2))
    assert grid._outline.isVisible()


def test_a_few_heads_leave_the_map_the_width_their_tiles_do_not_use(window, qtbot, lm_run):
    panel = _shown_at(window, qtbot, lm_run, (1920, 1080))
    top, grid = panel.views[0], panel.grid
    assert grid.columns < 4 and grid.width() <= grid.used_width() + 40  # no wide empty margins beside the tiles
    assert top.sizes()[0] > top.sizes()[1]
    top.setSizes([500, 700])  # the person's own split is kept when the map is drawn again
    dragged = top.sizes()
    _extract(qtbot, panel)
    assert top.sizes() == dragged


def test_a_uniform_map_says_so(qtbot):
    from studio.ui.panels.attention.heatmap import Heatmap

    heatmap = Heatmap()
    qtbot.addWidget(heatmap)
    tokens = ["a", "b", "c", "d"]
    heatmap.show_matrix(np.full((4, 4), 0.25, np.float32), tokens, tokens, "Cross-attention", False, "viridis")
    assert "uniform: every weight 0.2500" in heatmap.plot.getPlotItem().titleLabel.text
    heatmap.show_matrix(np.eye(4, dtype=np.float32), tokens, tokens, "Cross-attention", False, "viridis")
    assert "uniform" not in heatmap.plot.getPlotItem().titleLabel.text


def test_a_question_attends_into_its_context_marked_as_two_parts(panel, qtbot, qa_run, lm_run):
    load_model(qtbot, panel.picker, qa_run)
    assert panel.pair.isVisibleTo(panel) and "Context" in panel.inputs.pair_label.text()
    assert "Question" in panel.inputs.text_label.text()
    question, context = "What does total return?", TEXT
    panel.pair.setPlainText(context)
    _extract(qtbot, panel, text=question)
    assert panel.error.isHidden()
    plain = inference.load(str(qa_run), attn_implementation="eager")
    encoded = plain.tokenizer(question, context, return_token_type_ids=True, truncation=True,
                              max_length=plain.input_limit)  # the run's length: the context is cut
    with torch.inference_mode():
        out = plain.model(input_ids=torch.tensor([encoded["input_ids"]]),
                          token_type_ids=torch.tensor([encoded["token_type_ids"]]), output_attentions=True)
    panel.layer.setValue(1)
    panel.head.setCurrentIndex(panel.head.findData(0))
    np.testing.assert_allclose(panel.heatmap.image.image, out.attentions[1][0, 0].numpy(), atol=1e-6)
    legend = panel.heatmap.legend.text()
    assert panel.heatmap.legend.isVisibleTo(panel) and legend.startswith("Parts:")
    assert "question" in legend and "context" in legend
    last = len(encoded["input_ids"]) - 2
    described = panel.heatmap.describe(1, last)  # a question token looking at a context token
    assert "[1] (question) →" in described and f"[{last}] (context):" in described
    load_model(qtbot, panel.picker, lm_run)  # a model that reads one text: the second box goes
    assert not panel.pair.isVisibleTo(panel) and "Text" in panel.inputs.text_label.text()


def test_row_labels_never_overlap_on_a_short_map(qtbot):
    import numpy as np

    from studio.ui.panels.attention.heatmap import Heatmap

    heatmap = Heatmap()
    qtbot.addWidget(heatmap)
    heatmap.resize(700, 320)
    heatmap.show()
    tokens = [f"·t{i}" for i in range(40)]
    heatmap.show_matrix(np.full((40, 40), 1 / 40, np.float32), tokens, tokens, "a map", False, "viridis")
    qtbot.wait(50)
    item = heatmap.plot.getPlotItem()
    ticks = item.getAxis("left")._tickLevels[0]
    per_row = item.vb.height() / 40
    assert len(ticks) < 40 and (ticks[1][0] - ticks[0][0]) * per_row >= 15  # a line of the font between labels
    item.vb.setYRange(0, 10, padding=0)  # zoomed in: every row has room for its label
    assert len(item.getAxis("left")._tickLevels[0]) >= 10


def test_the_empty_map_says_it_is_working_not_to_press_show(window, qtbot):
    from studio.core.errors import ModelError

    panel = window.attention_panel

    def work(progress, control):
        import time

        time.sleep(0.2)
        raise ModelError("The model could not be read.")

    panel._start(work)
    assert panel.placeholder.text().startswith("Working out the attention")
    qtbot.waitUntil(lambda: not panel.extracting, timeout=TIMEOUT)
    assert panel.placeholder.text().startswith("Load a model, type a text and press Show Attention")
    assert "could not be read" in panel.error.text()
