"""The Playground: talk to one model, or two side by side; generate or summarize, streamed and stoppable.

The first model's task picks the mode: a language model continues the prompt, an encoder-decoder
model summarizes the text. Everything slow (loading, generating) runs in background jobs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (QCheckBox, QFileDialog, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QScrollArea,
                               QSplitter, QVBoxLayout, QWidget)

from studio.core.errors import ConfigError, StudioError
from studio.core.playground.transcript import Entry, Output
from studio.ui.panels.playground.history import History
from studio.ui.panels.playground.output_column import OutputColumn
from studio.ui.panels.playground.sampling_form import SamplingForm
from studio.ui.widgets.messages import ErrorLabel
from studio.ui.widgets.model_picker import ModelPicker

_MAX_TEXT_FILE = 2 * 2**20


class PlaygroundPanel(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("playgroundPanel")
        self.pickers = [ModelPicker("modelA", "Model"), ModelPicker("modelB", "Second model")]
        self.columns = [OutputColumn("outputA"), OutputColumn("outputB")]
        self.form = SamplingForm()
        self.history = History()
        self._entry: Entry | None = None
        self._pending = 0
        splitter = QSplitter(Qt.Orientation.Horizontal, objectName="playgroundSplitter")
        splitter.addWidget(self._side())
        splitter.addWidget(self._main())
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        for i, (picker, column) in enumerate(zip(self.pickers, self.columns)):
            picker.load_started.connect(column.stop)  # the output belongs to the model it came from
            picker.loaded.connect(lambda model, i=i: self._model_loaded(i, model))
            column.finished.connect(lambda result, i=i: self._column_done(i, result))
            column.failed.connect(lambda _text, i=i: self._column_done(i, None))
            column.alternative_chosen.connect(lambda index, token, i=i: self.regenerate(i, index, token))
        self.compare.toggled.connect(self._compare_toggled)
        self._compare_toggled(False)
        self._update_mode()

    def _side(self) -> QWidget:
        inner = QWidget()
        layout = QVBoxLayout(inner)
        layout.addWidget(self.pickers[0])
        self.compare = QCheckBox("Compare side by side", objectName="compareCheck")
        self.compare.setToolTip("Run the same prompt and settings on a second model or checkpoint at once, "
                                "for example before and after fine-tuning")
        layout.addWidget(self.compare)
        layout.addWidget(self.pickers[1])
        self.mode_label = QLabel(objectName="modeLabel", wordWrap=True)
        layout.addWidget(self.mode_label)
        layout.addWidget(self.form)
        self.colour = QCheckBox("Colour tokens by probability", objectName="colourCheck")
        self.colour.setToolTip("Shade each generated token from red (the model found it unlikely) to green "
                               "(certain). Hover a token for its alternatives; click to continue from one.")
        self.colour.toggled.connect(lambda on: [c.set_coloured(on) for c in self.columns])
        layout.addWidget(self.colour)
        self.legend = QLabel("<span style='background:#f26d6d'>&nbsp;unlikely&nbsp;</span> "
                             "<span style='background:#f2c46d'>&nbsp;unsure&nbsp;</span> "
                             "<span style='background:#7fdc7f'>&nbsp;certain&nbsp;</span> — hover a token for "
                             "its alternatives, click one to continue from it.", objectName="colourLegend",
                             wordWrap=True, visible=False)
        self.colour.toggled.connect(self.legend.setVisible)
        layout.addWidget(self.legend)
        layout.addStretch(1)
        scroll = QScrollArea(widgetResizable=True, objectName="playgroundSide")
        scroll.setWidget(inner)
        scroll.setMinimumWidth(330)
        return scroll

    def _main(self) -> QWidget:
        page = QWidget()
        self.prompt_label = QLabel(objectName="promptLabel")
        self.prompt = QPlainTextEdit(objectName="promptEdit")
        self.prompt.setPlaceholderText("Type or paste a prompt, then Run (Ctrl+Return).")
        self.open_text = QPushButton("Open Text File…", objectName="openTextButton", clicked=self.choose_text_file)
        self.open_text.setToolTip("Read the text to summarize (or the prompt) from a UTF-8 text file")
        self.run_button = QPushButton("Run", objectName="runButton", clicked=self.run)
        self.run_button.setToolTip("Generate (or summarize) with the settings on the left  (Ctrl+Return)")
        self.stop_button = QPushButton("Stop", objectName="stopButton", clicked=self.stop, enabled=False)
        self.stop_button.setToolTip("Stop now; what has been generated so far is kept  (Esc)")
        for keys, slot in (("Ctrl+Return", self.run), ("Escape", self.stop)):
            QShortcut(QKeySequence(keys), self, slot, context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.run_error = ErrorLabel("runError")
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_text)
        buttons.addStretch(1)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.run_button)
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.prompt_label)
        top_layout.addWidget(self.prompt, 1)
        top_layout.addWidget(self.run_error)
        top_layout.addLayout(buttons)
        outputs = QSplitter(Qt.Orientation.Horizontal, objectName="outputsSplitter")
        for column in self.columns:
            outputs.addWidget(column)
        self.history.reuse.connect(lambda entry: self.prompt.setPlainText(entry.prompt))
        vertical = QSplitter(Qt.Orientation.Vertical)
        for widget in (top, outputs, self.history):
            vertical.addWidget(widget)
        vertical.setSizes([160, 420, 140])
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(vertical)
        return page

    # ---- state ----------------------------------------------------------------------------------------
    @property
    def active(self) -> list[int]:
        return [0, 1] if self.compare.isChecked() else [0]

    @property
    def mode(self) -> str:
        model = self.pickers[0].model
        return "summarize" if model is not None and model.task == "summarize" else "generate"

    @property
    def generating(self) -> bool:
        return any(column.running for column in self.columns)

    def _compare_toggled(self, on: bool) -> None:
        self.pickers[1].setVisible(on)
        self.columns[1].setVisible(on)
        self._update_mode()

    def _model_loaded(self, i: int, model: Any) -> None:
        self.columns[i].show_model(self.pickers[i].label)
        self._update_mode()

    def _update_mode(self) -> None:
        summarize = self.mode == "summarize"
        self.form.set_mode(self.mode)
        self.prompt_label.setText("<b>Text to summarize</b>" if summarize else "<b>Prompt</b>")
        model = self.pickers[0].model
        self.mode_label.setText("Load a model to begin." if model is None else
                                "Mode: summarize (encoder-decoder model)." if summarize else
                                "Mode: generate (the model continues your prompt).")
        self.run_button.setText("Summarize" if summarize else "Generate")

    def _busy(self, on: bool) -> None:
        self.stop_button.setEnabled(on)
        self.run_button.setEnabled(not on)

    # ---- running --------------------------------------------------------------------------------------
    def _check(self) -> tuple[list[Any], Any]:
        models = [self.pickers[i].model for i in self.active]
        if any(m is None for m in models):
            which = "the second model" if models[0] is not None else "a model"
            raise ConfigError(f"Load {which} first: pick it on the left and press Load.")
        if len({m.task for m in models}) > 1:
            raise ConfigError("The two models do different tasks (one summarizes, one continues text); "
                              "compare models of the same kind.")
        sampling = self.form.sampling()
        sampling.check()
        if self.mode == "summarize" and not self.prompt.toPlainText().strip():
            raise ConfigError("There is no text to summarize; type or paste some, or open a text file.")
        return models, sampling

    def run(self) -> None:
        if self.generating:
            return
        self.run_error.clear_message()
        try:
            models, sampling = self._check()
        except StudioError as exc:
            self.run_error.show_message(str(exc))
            return
        prompt = self.prompt.toPlainText()
        self._start(Entry(self.mode, prompt, self.form.settings()),
                    [(i, model, prompt, sampling, None) for i, model in zip(self.active, models)])

    def regenerate(self, column: int, index: int, token_id: int) -> None:
        """Continue column `column` from its token `index`, replaced by `token_id`."""
        previous = self.columns[column]
        if self.generating or previous.result is None:
            return
        request = previous.request
        forced = [t.id for t in previous.result.tokens[:index]] + [token_id]
        settings = {**request["sampling"].__dict__, "forced_tokens": len(forced)}
        self._start(Entry(request["mode"], request["prompt"], settings),
                    [(column, request["loaded"], request["prompt"], request["sampling"], forced)])

    def _start(self, entry: Entry, jobs: list[tuple[int, Any, str, Any, list[int] | None]]) -> None:
        self._entry = entry
        self._pending = len(jobs)
        self.history.add(entry)
        self._busy(True)
        for i, model, prompt, sampling, forced in jobs:
            self.columns[i].run(model, entry.mode, prompt, sampling, forced)

    def stop(self) -> None:
        for column in self.columns:
            column.stop()

    def _column_done(self, i: int, result: Any) -> None:
        entry = self._entry
        if entry is not None and result is not None:
            name = self.pickers[i].label
            entry.outputs.append(Output(name, result.text, len(result.tokens), round(result.seconds, 4),
                                        round(result.tokens_per_second, 2), round(result.time_to_first_token, 4),
                                        result.finish_reason))
            self.history.updated(entry)
        self._pending -= 1
        if self._pending <= 0:
            self._busy(False)

    # ---- text files -----------------------------------------------------------------------------------
    def choose_text_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a text file", "", "Text (*.txt *.md *.py);;All files (*)")
        if path:
            self.open_text_file(Path(path))

    def open_text_file(self, path: Path) -> None:
        self.run_error.clear_message()
        try:
            if path.stat().st_size > _MAX_TEXT_FILE:
                raise ConfigError(f"'{path.name}' is larger than 2 MB; a model reads a few thousand characters "
                                  "at most, so open a shorter file or paste a part of it.")
            self.prompt.setPlainText(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError:
            self.run_error.show_message(f"'{path.name}' is not UTF-8 text; open a plain text file.")
        except OSError as exc:
            self.run_error.show_message(f"Cannot read '{path.name}' ({exc.strerror}).")
        except ConfigError as exc:
            self.run_error.show_message(str(exc))
