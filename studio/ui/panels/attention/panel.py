"""The Attention inspector: one head as a heatmap, every head as a grid, a token's focus, head
statistics, and the probe's attention at each recorded training step.

Extraction and everything computed over all heads (statistics, thumbnails, induction) run in a
background job; switching layer or head only slices arrays already in memory.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from studio.core.errors import StudioError
from studio.ui.jobs import Latest
from studio.ui.panels.attention.attribution_view import AttributionView
from studio.ui.panels.attention.exports import ExportActions
from studio.ui.panels.attention.head_grid import STAT_NAMES, HeadGrid
from studio.ui.panels.attention.heatmap import COLOUR_MAPS, Heatmap
from studio.ui.panels.attention.inputs import AttentionInputs
from studio.ui.panels.attention.probe_steps import ProbeSteps, probe_text
from studio.ui.panels.attention.token_strip import TokenFocus
from studio.ui.widgets.messages import ErrorLabel
from studio.ui.widgets.model_picker import ModelPicker

_KIND_TITLES = {"self": "Self-attention", "encoder": "Encoder self-attention", "decoder": "Decoder self-attention",
                "cross": "Cross-attention (decoder → encoder)"}
_SELF_TITLES = {"encoder-only": "Self-attention (bidirectional)", "decoder-only": "Self-attention (causal)"}
_AGGREGATES = (("mean of heads", "mean"), ("max of heads", "max"), ("rollout across layers", "rollout"))

_EMPTY = ("Load a model, type a text and press Show Attention.\n\nThe map shows where each token (row) looks "
          "(columns); the grid shows every layer and head at once.")
_WORKING = "Working out the attention of every layer and head for this text…"


class AttentionPanel(ExportActions, QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("attentionPanel")
        self.picker = ModelPicker("attentionModel", "Model", attn_implementation="eager")
        self.data: dict[str, dict[str, Any]] = {}
        self._combined: dict[tuple[str, str], np.ndarray] = {}
        self.attention: Any = None
        self.source_title = ""  # " · training step N" while a recorded probe is shown
        self._jobs = Latest(self, cancel_previous=True)
        self.heatmap: Heatmap | None = None
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self._side())
        splitter.addWidget(self._main())
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self.picker.loaded.connect(self._model_loaded)
        self._enable_view(False)

    # ---- layout -------------------------------------------------------------------------------------
    def _side(self) -> QWidget:
        inner = QWidget()
        layout = QVBoxLayout(inner)
        layout.addWidget(self.picker)
        self.inputs = AttentionInputs()
        self.text, self.target, self.pair = self.inputs.text, self.inputs.target, self.inputs.pair
        self.as_conversation = self.inputs.as_conversation
        layout.addWidget(self.inputs)
        self.extract_button = QPushButton("Show Attention", objectName="extractButton", clicked=self.extract)
        self.extract_button.setToolTip("Run the text through the model once and keep every layer's and head's "
                                       "attention (in the background)")
        layout.addWidget(self.extract_button)
        self.busy = QProgressBar(objectName="attentionBusy", maximum=0, visible=False, maximumHeight=8,
                                 textVisible=False)
        layout.addWidget(self.busy)
        self.error = ErrorLabel("attentionError")
        layout.addWidget(self.error)
        self.view_box = QWidget()
        form = QFormLayout(self.view_box)
        form.setContentsMargins(0, 0, 0, 0)
        self.kind = QComboBox(objectName="attentionKind", toolTip="Which attention of the model to show")
        self.layer = QSpinBox(objectName="layerSpin", toolTip="The layer (0 is nearest the input)")
        self.head = QComboBox(objectName="headCombo",
                              toolTip="One head, or all heads combined: mean, max, or rollout (attention "
                                      "multiplied through the layers, with the residual stream)")
        self.colour_map = QComboBox(objectName="colourMapCombo", toolTip="The colours of the map")
        self.colour_map.addItems(COLOUR_MAPS)
        self.log = QCheckBox("Log colour scale", objectName="logScaleCheck")
        self.log.setToolTip("Colour by log10 of the weight, so small weights are told apart too")
        self.hide_special = QCheckBox("Hide special tokens", objectName="hideSpecialCheck")
        self.hide_special.setToolTip("Leave the template's tokens ([CLS], [SEP], <s>, </s>, ...) out of the map and "
                                     "the token focus; the weights shown are not renormalised. The head grid keeps "
                                     "every token.")
        self.sort = QComboBox(objectName="sortCombo", toolTip="Order the head grid by a statistic, highest first")
        self.sort.addItem("layer order", None)
        for key, name in STAT_NAMES.items():
            self.sort.addItem(name, key)
        self.threshold = QDoubleSpinBox(objectName="filterSpin", minimum=0.0, maximum=10.0, singleStep=0.05,
                                        decimals=2, toolTip="With a sort: dim the heads whose statistic is "
                                                            "below this")
        form.addRow("Attention", self.kind)
        form.addRow("Layer", self.layer)
        form.addRow("Head", self.head)
        form.addRow("Colours", self.colour_map)
        form.addRow(self.log)
        form.addRow(self.hide_special)
        form.addRow("Sort heads by", self.sort)
        form.addRow("Dim heads below", self.threshold)
        layout.addWidget(self.view_box)
        self.probe_box = ProbeSteps()
        self.probe_box.chosen.connect(self.show_probe)
        layout.addWidget(self.probe_box)
        exports = QHBoxLayout()
        for label, name, slot, tip in (("PNG", "exportPngButton", self.choose_png, "Save the map as shown"),
                                       ("CSV", "exportCsvButton", self.choose_csv, "Save the matrix shown, with "
                                                                                   "its tokens"),
                                       ("NPZ", "exportNpzButton", self.choose_npz, "Save every layer and head "
                                                                                   "(numpy .npz)")):
            button = QPushButton(label, objectName=name, clicked=slot, toolTip=tip)
            exports.addWidget(button)
        self.export_buttons = exports
        layout.addWidget(QLabel("<b>Export</b>"))
        layout.addLayout(exports)
        layout.addStretch(1)
        for widget in (self.kind, self.head, self.colour_map):
            widget.currentIndexChanged.connect(self.redraw)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.layer.valueChanged.connect(self.redraw)
        self.log.toggled.connect(self.redraw)
        self.hide_special.toggled.connect(self.redraw)
        self.sort.currentIndexChanged.connect(self.redraw_grid)
        self.threshold.valueChanged.connect(self.redraw_grid)
        scroll = QScrollArea(widgetResizable=True, objectName="attentionSide")
        scroll.setWidget(inner)
        scroll.setMinimumWidth(320)
        return scroll

    def _main(self) -> QWidget:
        self.main = QSplitter(Qt.Orientation.Vertical)
        self.placeholder = QLabel(_EMPTY, alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True,
                                  objectName="attentionEmpty")
        self.main.addWidget(self.placeholder)
        return self.main

    def _build_views(self) -> None:
        """pyqtgraph is imported on first use, not at window start."""
        if self.heatmap is not None:
            return
        self.heatmap = Heatmap()
        self.grid = HeadGrid()
        self.grid.head_chosen.connect(self.open_head)
        self.focus = TokenFocus()
        self.attribution = AttributionView()
        self.attribution.explain_button.clicked.connect(lambda: self.attribution.explain(self.text.toPlainText()))
        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(self.heatmap)
        top.addWidget(self.grid)
        top.setSizes([600, 400])
        self.bottom = QTabWidget(objectName="attentionBottomTabs")
        self.bottom.addTab(self.focus, "Token focus")
        self.bottom.addTab(self.attribution, "Prediction")
        self.main.addWidget(top)
        self.main.addWidget(self.bottom)
        self.views = (top, self.bottom)
        for view in self.views:
            view.hide()

    # ---- models and extraction ------------------------------------------------------------------------
    def _model_loaded(self, model: Any) -> None:
        self.error.clear_message()  # "Load a model first" said before is answered now
        self._build_views()  # now, while the person types, so the first map appears without this cost
        self.inputs.configure(model)
        explained = model.task.attributable  # its prediction can be traced back to the input's tokens
        self.bottom.setTabVisible(1, explained)
        if explained:
            self.attribution.set_model(model)
            self.bottom.setCurrentIndex(1)
        # something to look at at once: the probe's last step, unless the person has typed a text of their own
        # (the box and the map must show the same text, and theirs is not to be replaced unasked)
        if self.probe_box.refresh(model.source) and not self.text.toPlainText().strip():
            self.probe_box.go_to_last()
            self.show_probe(len(self.probe_box.steps) - 1)
        elif self.attention is not None:
            self._clear_views()  # the map on screen is the other model's

    def _clear_views(self) -> None:
        self.attention, self.data, self.source_title = None, {}, ""
        for view in self.views:
            view.hide()
        self.placeholder.show()
        self._enable_view(False)

    @property
    def pickers(self) -> list[Any]:
        """The panel's model pickers (one), for the window to share what is loaded across panels."""
        return [self.picker]

    def open_model(self, source: str) -> None:
        self.picker.choose(source)
        self.picker.load()

    def open_conversation(self, source: str, transcript: str) -> None:
        """Show a Playground chat's attention: its model (loaded here unless it is already) and its turns."""
        self.text.setPlainText(transcript)
        self.as_conversation.setChecked(True)
        if self.picker.model is not None and self.picker.model.source == source:
            self.extract()
            return
        self.picker.loaded.connect(self._extract_once)
        self.open_model(source)

    def _extract_once(self, _: Any) -> None:
        self.picker.loaded.disconnect(self._extract_once)
        self.extract()

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        # coming back from the Train panel: the steps recorded meanwhile are there
        model = self.picker.model
        self.probe_box.refresh(model.source if model is not None else None)
        super().showEvent(event)

    def extract(self) -> None:
        self.error.clear_message()
        model = self.picker.model
        if model is None:
            self.error.show_message("Load a model first: pick it above and press Load.")
            return
        given = self.inputs.read()

        def work(progress: Any, control: Any) -> Any:
            from studio.core.attention import conversation as turns
            from studio.core.attention import extract as attention
            from studio.core.attention import stats as attention_stats
            from studio.core.data.conversations import from_transcript
            from studio.core.playground.conversation import answered_by

            if given["conversation"]:
                att = turns.extract(model, answered_by(model, from_transcript(given["text"])))
            else:
                att = attention.extract(model, given["text"], given["target"], given["pair"])
            induction = attention_stats.induction(model.model, model.tokenizer)
            return att, attention_stats.summarise(att, induction)

        self._start(work)

    @property
    def extracting(self) -> bool:
        return self._jobs.running

    def _start(self, work: Any) -> None:
        self.placeholder.setText(_WORKING)  # not "press Show Attention" while it is being shown
        self.busy.show()
        self.extract_button.setEnabled(False)
        self._jobs.start(work, done=lambda result: self._extracted(*result), failed=self._failed)

    def _failed(self, text: str) -> None:
        self.placeholder.setText(_EMPTY)
        self.busy.hide()
        self.extract_button.setEnabled(True)
        self.error.show_message(text)

    def _extracted(self, att: Any, data: dict[str, dict[str, Any]], title: str = "") -> None:
        self.busy.hide()
        self.extract_button.setEnabled(True)
        self._build_views()
        if self.placeholder.isVisible():
            self.placeholder.hide()
            for view in self.views:
                view.show()
            self.main.setSizes([0, 560, 300])
        self.attention, self.data, self.source_title = att, data, title
        self._combined: dict[tuple[str, str], np.ndarray] = {}  # (kind, mean|max|rollout), made on first view
        kind = self.kind.currentData()
        self.kind.blockSignals(True)
        self.kind.clear()
        for name in data:
            self.kind.addItem(self._kind_title(name), name)
        self.kind.setCurrentIndex(max(0, self.kind.findData(kind)))
        self.kind.blockSignals(False)
        self._enable_view(True)
        self._kind_changed()

    def show_probe(self, index: int) -> None:
        """Show the probe's attention at the `index`-th recorded step, keeping the layer and head chosen."""
        from studio.core.attention import probe as attention_probe

        step, path = self.probe_box.steps[index]
        try:
            att = attention_probe.load(path)
        except StudioError as exc:
            self.error.show_message(str(exc))
            return
        # the box holds the text the map shows: the probe's (Show Attention then reads it with today's weights)
        self.text.setPlainText(probe_text(att, self.picker.model))
        self.probe_box.describe(index)
        from studio.core.attention.stats import summarise

        self._extracted(att, summarise(att, None), f" · training step {step:,}")

    # ---- drawing --------------------------------------------------------------------------------------
    def _enable_view(self, on: bool) -> None:
        self.view_box.setEnabled(on)
        for i in range(self.export_buttons.count()):
            self.export_buttons.itemAt(i).widget().setEnabled(on)

    def _kind_changed(self, *_: Any) -> None:
        current = self.current_kind()
        if current is None:
            return
        layers, heads = current["weights"].shape[:2]
        head = self.head.currentData()
        self.head.blockSignals(True)
        self.head.clear()
        for h in range(heads):
            self.head.addItem(f"head {h}", h)
        square = current["weights"].shape[2] == current["weights"].shape[3] and self.kind.currentData() != "cross"
        for label, how in _AGGREGATES:
            if how != "rollout" or square:
                self.head.addItem(label, how)
        self.head.setCurrentIndex(max(0, self.head.findData(head)))
        self.head.blockSignals(False)
        self.layer.blockSignals(True)
        self.layer.setRange(0, layers - 1)
        self.layer.blockSignals(False)
        self.redraw()
        self.redraw_grid()

    def _kind_title(self, kind: str) -> str:
        model = self.picker.model
        if kind == "self" and model is not None:
            return _SELF_TITLES.get(model.shape, _KIND_TITLES[kind])
        return _KIND_TITLES[kind]

    def current_kind(self) -> dict[str, Any] | None:
        return self.data.get(self.kind.currentData())

    def current_matrix(self) -> np.ndarray:
        from studio.core.attention import stats as attention_stats

        current = self.current_kind()
        head, layer = self.head.currentData(), self.layer.value()
        if isinstance(head, int):
            return current["weights"][layer, head]
        key = (self.kind.currentData(), head)
        if key not in self._combined:
            weights = current["weights"]
            self._combined[key] = attention_stats.rollout(weights) if head == "rollout" else \
                attention_stats.aggregate(weights, head)
        return self._combined[key][layer]

    def redraw(self, *_: Any) -> None:
        current = self.current_kind()
        if current is None or self.heatmap is None:
            return
        from studio.core.attention.selection import without_tokens

        matrix, rows, columns = self.current_matrix(), current["rows"], current["columns"]
        turns = self.attention.turns() if self.kind.currentData() == "self" else []
        if self.hide_special.isChecked() and self.picker.model is not None:
            matrix, rows, columns, turns = without_tokens(matrix, rows, columns,
                                                          set(self.picker.model.tokenizer.all_special_tokens), turns)
        where = f"layer {self.layer.value()} · {self.head.currentText()}"
        title = f"{self._kind_title(self.kind.currentData())} · {where}"
        self.heatmap.show_matrix(matrix, rows, columns, title + self.source_title, self.log.isChecked(),
                                 self.colour_map.currentText(), turns)
        self.focus.set_matrix(matrix, rows, columns)
        head = self.head.currentData()
        self.grid.mark((self.layer.value(), head) if isinstance(head, int) else None)
        if self.kind.currentData() == "self":
            self.attribution.set_attention(matrix, rows, where)

    def redraw_grid(self, *_: Any) -> None:
        current = self.current_kind()
        if current is None or self.heatmap is None:
            return
        sort = self.sort.currentData()
        self.threshold.setEnabled(sort is not None)
        self.grid.show_heads(current["thumbs"], current["stats"], sort,
                             self.threshold.value() if sort and self.threshold.value() > 0 else None)
        self.grid.narrow_to_tiles()

    def open_head(self, layer: int, head: int) -> None:
        self.layer.setValue(layer)
        self.head.setCurrentIndex(self.head.findData(head))
