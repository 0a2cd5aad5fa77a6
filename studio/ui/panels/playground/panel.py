"""The Playground: talk to one model, or two side by side, the way its task asks.

The first model's task picks the view by the kind of answer its models give (studio.ui.outputs): text
is streamed and stoppable (a language model continues the prompt, an encoder-decoder summarizes); other
kinds are answered as the person types (a classifier's labels, with a batch of lines; a masked model's
candidates; a tagger's entities). The model's task answers every request; everything slow runs in
background jobs.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from studio.core.errors import ConfigError, StudioError
from studio.core.playground.transcript import ANSWERED, Entry, Output
from studio.core.tasks import outputs, registry
from studio.ui import outputs as views
from studio.ui.panels.playground.batch_view import BatchView
from studio.ui.panels.playground.chat_box import ChatBox
from studio.ui.panels.playground.chat_session import ChatSession
from studio.ui.panels.playground.history import History
from studio.ui.panels.playground.input_area import InputArea
from studio.ui.panels.playground.output_column import OutputColumn
from studio.ui.panels.playground.output_pages import output_pages
from studio.ui.panels.playground.sampling_form import SamplingForm
from studio.ui.widgets.export_dialog import open_export_dialog
from studio.ui.widgets.model_picker import ModelPicker

_TYPING_PAUSE_MS = 250  # a classifier answers this long after the last keystroke


class PlaygroundPanel(QWidget):
    """`conversation_inspected(model source, transcript)` asks for a chat's attention."""

    conversation_inspected = Signal(str, str)

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("playgroundPanel")
        self.pickers = [ModelPicker("modelA", "Model"), ModelPicker("modelB", "Second model")]
        self.columns = [OutputColumn("outputA"), OutputColumn("outputB")]
        # the answer columns of every kind that is not streamed, by the kind's name: masks -> masksA, masksB
        self.answers = {kind.name: [views.view_of(kind).column(f"{kind.name}{side}") for side in "AB"]
                        for kind in views.kinds() if views.view_of(kind).column is not None}
        self.batch = BatchView()
        self.form = SamplingForm()
        self.history = History()
        self.chat_box = ChatBox()
        self._entry: Entry | None = None
        self._pending = 0
        self._typing = QTimer(self, singleShot=True, interval=_TYPING_PAUSE_MS)
        self._typing.timeout.connect(self._classify_typed)
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
            for answers in self.answers.values():
                picker.load_started.connect(answers[i].clear)
                answers[i].finished.connect(lambda result, i=i: self._answered(i, result))
        for answers in self.answers.values():
            for column in answers:
                if hasattr(column, "chosen"):  # a candidate picked: it takes the mask's place
                    column.chosen.connect(self.fill_in)
        self.batch.wanted.connect(self._run_batch)
        self.batch.run_button.clicked.connect(lambda: self._run_batch(self.input.lines()))
        self.chat = ChatSession(self, self.chat_box)
        self.prompt.textChanged.connect(self._typed)
        self.compare.toggled.connect(self._compare_toggled)
        self._compare_toggled(False)
        self._update_mode()

    def _side(self) -> QWidget:
        inner = QWidget()
        layout = QVBoxLayout(inner)
        layout.addWidget(self.pickers[0])
        self.export_button = QPushButton("Export…", objectName="playgroundExportButton", enabled=False,
                                         clicked=lambda: open_export_dialog(self.pickers[0].model.source, self))
        self.export_button.setToolTip("Write the loaded model for llama.cpp, LM Studio, Ollama or the Hub, or as a "
                                      "clean model folder")
        layout.addWidget(self.export_button)
        self.compare = QCheckBox("Compare side by side", objectName="compareCheck")
        self.compare.setToolTip("Run the same prompt and settings on a second model or checkpoint at once, "
                                "for example before and after fine-tuning")
        layout.addWidget(self.compare)
        layout.addWidget(self.pickers[1])
        self.mode_label = QLabel(objectName="modeLabel", wordWrap=True)
        layout.addWidget(self.mode_label)
        layout.addWidget(self.chat_box)
        layout.addWidget(self.form)
        self.colour = QCheckBox("Colour tokens by probability", objectName="colourCheck")
        self.colour.setToolTip("Shade each generated token from red (the model found it unlikely) to green "
                               "(certain). Hover a token for its alternatives; click to continue from one.")
        self.colour.toggled.connect(lambda on: [c.set_coloured(on) for c in self.columns])
        layout.addWidget(self.colour)
        self.legend = QLabel("<span style='background:#f26d6d; color:#000'>&nbsp;unlikely&nbsp;</span> "
                             "<span style='background:#f2c46d; color:#000'>&nbsp;unsure&nbsp;</span> "
                             "<span style='background:#7fdc7f; color:#000'>&nbsp;certain&nbsp;</span> — hover a token "
                             "for its alternatives, click one to continue from it.", objectName="colourLegend",
                             wordWrap=True, visible=False)
        self.colour.toggled.connect(lambda on: self.legend.setVisible(on and self.output.streamed))
        layout.addWidget(self.legend)
        layout.addStretch(1)
        scroll = QScrollArea(widgetResizable=True, objectName="playgroundSide")
        scroll.setWidget(inner)
        scroll.setMinimumWidth(330)
        return scroll

    def _main(self) -> QWidget:
        page = QWidget()
        self.input = InputArea()
        self.prompt, self.pair, self.run_error = self.input.prompt, self.input.pair, self.input.run_error
        self.run_button, self.stop_button = self.input.run_button, self.input.stop_button
        self.pair.textChanged.connect(self._typed)
        self.run_button.clicked.connect(self.run)
        self.stop_button.clicked.connect(self.stop)
        self.input.insert_mask.clicked.connect(self.add_mask)
        for keys, slot in (("Ctrl+Return", self.run), ("Escape", self.stop)):
            QShortcut(QKeySequence(keys), self, slot, context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.outputs, self._pages = output_pages(self.columns, self.answers, self.batch)
        self.history.reuse.connect(lambda entry: self.prompt.setPlainText(entry.prompt))
        vertical = QSplitter(Qt.Orientation.Vertical)
        for widget in (self.input, self.outputs, self.history):
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
    def task(self) -> Any:
        model = self.pickers[0].model
        return model.task if model is not None else None

    @property
    def output(self) -> outputs.OutputKind:
        """What the first model gives (text before a model is loaded)."""
        return self.task.output if self.task is not None else outputs.TEXT

    @property
    def mode(self) -> str:
        """The task of the first model ("" before one is loaded)."""
        return self.task.name if self.task is not None else ""

    @property
    def chatting(self) -> bool:
        """The first model's input is the next turn of a conversation."""
        return self.task is not None and self.task.playground.conversation

    @property
    def generating(self) -> bool:
        return any(column.running for column in self.columns)

    def _compare_toggled(self, on: bool) -> None:
        self.pickers[1].setVisible(on)
        self.columns[1].setVisible(on)
        for answers in self.answers.values():
            answers[1].setVisible(on)
        self._update_mode()
        if self.chatting:
            self.chat.show()

    def _model_loaded(self, i: int, model: Any) -> None:
        self.columns[i].show_model(self.pickers[i].label)
        own = self.answers.get(model.task.output.name)
        for answers in self.answers.values():
            answers[i].show_model(self.pickers[i].label, model if answers is own else None)
        if i == 0:
            self.batch.clear()
            self.export_button.setEnabled(True)
        self._update_mode()
        if self.chatting:  # a conversation belongs to the model that answered it
            self.chat.clear(columns=[i])
        self._typed()

    def _update_mode(self) -> None:
        task = self.task
        streamed = self.output.streamed
        view = views.view_of(self.output)
        spec = task.playground if task is not None else None
        self.outputs.setCurrentIndex(self._pages.get(self.output.name, 0))
        self.form.setVisible(streamed)
        self.chat_box.setVisible(bool(spec and spec.conversation))
        defaults = {o.name: o.default for o in task.command.options} if task is not None else None
        self.form.set_beams(bool(spec and spec.beams), defaults)
        self.colour.setVisible(streamed)
        self.legend.setVisible(self.colour.isChecked() and streamed)
        self.input.show_spec(spec, view.hint, view.mask_button)
        self.mode_label.setText("Load a model to begin." if task is None else f"{task.title}: {task.help}")

    def _busy(self, on: bool) -> None:
        self.input.busy(on)

    # ---- running --------------------------------------------------------------------------------------
    def _check(self) -> list[Any]:
        models = [self.pickers[i].model for i in self.active]
        if any(m is None for m in models):
            which = "the second model" if models[0] is not None else "a model"
            raise ConfigError(f"Load {which} first: pick it on the left and press Load.")
        if not registry.same_output([m.task for m in models]):
            raise ConfigError(f"The two models do different things ({models[0].task.title.lower()} and "
                              f"{models[1].task.title.lower()}); compare models of the same kind.")
        spec = models[0].task.playground
        if not spec.echo_input and not self.prompt.toPlainText().strip():
            raise ConfigError(f"There is no {spec.input_title.lower()}; type or paste some, or open a text file.")
        if spec.pair_title and not self.pair.toPlainText().strip():
            raise ConfigError(f"There is no {spec.pair_title.lower()}; paste the text the answer is found in above "
                              f"the {spec.input_title.lower()}.")
        return models

    def run(self) -> None:
        if self.generating:
            return
        self.run_error.clear_message()
        try:
            models = self._check()
            sampling = self.form.sampling() if self.output.streamed else None
            if sampling is not None:
                sampling.check()
        except StudioError as exc:
            self.run_error.show_message(str(exc))
            return
        prompt = self.prompt.toPlainText()
        if self.chatting:
            self.run_turn(prompt, self.active)
            return
        if not self.output.streamed:
            self._ask(models, prompt)
            return
        self._start(self._new_entry(prompt, self.form.settings()),
                    [(i, model, prompt, sampling, None) for i, model in zip(self.active, models)])

    def run_turn(self, question: str, columns: list[int], forced: dict[int, list[int]] | None = None) -> None:
        """The columns answer the user's next turn `question` in their conversations."""
        models = [(i, self.pickers[i].model) for i in columns]
        self.chat.ask(question, models, self.form.sampling(), forced)

    def start_jobs(self, prompt: str, jobs: list[tuple]) -> None:
        settings = self.form.settings()
        forced = next((len(job[4]) for job in jobs if job[4]), 0)
        self._start(self._new_entry(prompt, {**settings, "forced_tokens": forced} if forced else settings), jobs)

    def _new_entry(self, prompt: str, settings: dict[str, Any]) -> Entry:
        return Entry(self.mode, prompt, settings, input_title=self.task.playground.input_title)

    def regenerate(self, column: int, index: int, token_id: int) -> None:
        """Continue column `column` from its token `index`, replaced by `token_id`."""
        previous = self.columns[column]
        if self.generating or previous.result is None:
            return
        request = previous.request
        forced = [t.id for t in previous.result.tokens[:index]] + [token_id]
        if self.chatting:
            self.chat.from_token(column, forced)
            return
        settings = {**request["sampling"].__dict__, "forced_tokens": len(forced)}
        self._start(self._new_entry(request["prompt"], settings),
                    [(column, request["loaded"], request["prompt"], request["sampling"], forced)])

    def _start(self, entry: Entry, jobs: list[tuple]) -> None:
        """Each job: (column, model, prompt, sampling, forced tokens[, chat history, text shown before])."""
        self._entry = entry
        self._pending = len(jobs)
        self.history.add(entry)
        self._busy(True)
        for i, model, *rest in jobs:
            self.columns[i].run(model, *rest)

    def stop(self) -> None:
        for column in self.columns:
            if column.running:
                column.figures.setText("Stopping…")  # said at once; the answer so far arrives in a moment
            column.stop()
        self.batch.stop()
        self.stop_button.setEnabled(False)

    def _column_done(self, i: int, result: Any) -> None:
        entry = self._entry
        if entry is not None and result is not None:
            entry.outputs.append(Output(self.pickers[i].label, result.text, len(result.tokens),
                                        round(result.seconds, 4), round(result.tokens_per_second, 2),
                                        round(result.time_to_first_token, 4), result.finish_reason))
            self.history.updated(entry)
        if self.chatting:
            self.chat.answered(i, result)
        self._pending -= 1
        if self._pending <= 0:
            self._busy(False)
            if self.chatting:
                self.chat.all_answered()

    # ---- answers as the person types (classifiers, masked models, taggers; translators) ------------------
    def _typed(self) -> None:
        live = not self.output.streamed or (self.task is not None and self.task.playground.as_you_type)
        if live and self.prompt.toPlainText().strip():
            self._typing.start()
        elif live and not self.output.streamed:  # the text is gone, so is its answer: none may stay shown
            self._typing.stop()
            for column in self.answers.get(self.output.name, []):
                column.clear()

    def _classify_typed(self) -> None:
        try:
            models = self._check()
        except StudioError:
            return  # while typing, a missing second model is not worth a red line; the button says it
        if self.output.streamed:  # a translation written again for the text as it now reads
            if not self.generating:
                self.run()
            return
        for i, model in zip(self.active, models):
            self.answers[self.output.name][i].ask(model, self.prompt.toPlainText(), self.pair.toPlainText())

    def _ask(self, models: list[Any], text: str) -> None:
        self._entry = self._new_entry(text, {})
        self.history.add(self._entry)
        for i, model in zip(self.active, models):
            self.answers[self.output.name][i].ask(model, text, self.pair.toPlainText())

    def _answered(self, i: int, result: Any) -> None:
        entry = self._entry
        label = self.pickers[i].label
        # the answer to the text as typed may arrive as well as the one asked for: the entry keeps one per model
        if entry is not None and entry.prompt == result.text and entry.mode == self.mode and \
                not any(o.model == label for o in entry.outputs):
            entry.outputs.append(Output(label, self.output.summary(result), 0, 0.0, 0.0, 0.0,
                                        ANSWERED))
            self.history.updated(entry)

    def add_mask(self) -> None:
        model = self.pickers[0].model
        self.input.add_mask(model.tokenizer.mask_token if model is not None else None)

    def fill_in(self, index: int, token: str) -> None:
        """Put `token` in place of the `index`-th mask token of the text; the others are asked again."""
        self.input.fill_in(self.pickers[0].model.tokenizer.mask_token, index, token)

    def _run_batch(self, lines: list[str]) -> None:
        model = self.pickers[0].model
        if model is None or not views.view_of(self.output).batch:
            self.batch.error.show_message("Load a classifier first: pick it on the left and press Load.")
            return
        self.batch.run(model, lines)

    def open_model(self, source: str) -> None:
        """Load the model of a run, a checkpoint or a folder in the first column."""
        self.pickers[0].choose(source)
        self.pickers[0].load()

    def try_text(self, source: str, text: str) -> None:
        """Show `text` classified by the model in `source` (loading it first if another model is loaded)."""
        from studio.core.runs.layout import model_source

        picker = self.pickers[0]
        self.prompt.setPlainText(text)
        if picker.model is None or picker.model.source != model_source(source):
            picker.choose(source)
            picker.load()
