"""Pick and load a model: a run's final model or checkpoint, a local folder, or a hub id.

Shared by the Playground and the Attention panel. The list is read again whenever it opens, so runs
that finished or wrote a checkpoint meanwhile are there. Loading runs in a background job; only the
latest request's result is kept, so clicking Load twice never shows the wrong model, and a failed
load leaves the previous model in place and says so.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGridLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QWidget,
)

from studio.core.runs.catalog import ModelChoice, model_choices
from studio.core.runs.layout import short_name
from studio.core.system import gguf, workspace
from studio.core.tasks import registry
from studio.ui.jobs import Latest
from studio.ui.widgets.messages import ErrorLabel

_TOOLTIP = Qt.ItemDataRole.ToolTipRole


class _ListingCombo(QComboBox):
    """A combo box that asks for its items to be listed again just before it opens."""

    opening = Signal()

    def showPopup(self) -> None:
        self.opening.emit()
        super().showPopup()


def choice_label(choice: ModelChoice) -> str:
    """What a person recognises a model by: what it is, what it does, how far it trained, and when."""
    task = registry.find(choice.task)
    what = task.title if task else choice.task
    where = "final" if choice.step is None else f"step {choice.step:,}"
    if choice.adapter:
        where += " LoRA adapter on its base"
    when = time.strftime("%b %d %H:%M", time.localtime(choice.started)) if choice.started else ""
    status = f" ({choice.status})" if choice.step is None and choice.status != "completed" else ""
    return " · ".join(p for p in (choice.model, what, where + status, when) if p)


class ModelPicker(QWidget):
    """`loaded(LoadedModel)` after a successful load; `load_started()` when a load begins."""

    loaded = Signal(object)
    load_started = Signal()

    def __init__(self, name: str, title: str = "Model", attn_implementation: str | None = None) -> None:
        super().__init__()
        self.setObjectName(name)
        self.attn_implementation = attn_implementation
        self.model: Any = None
        self.label = ""  # a short name for the loaded model, for column titles and history
        self._info = "No model loaded."
        self._stopped_note = ""
        self._short: dict[str, str] = {}  # source -> a name short enough for a column title
        # (source, label) of models loaded in other panels, newest first; the window hands every picker
        # the same list
        self.offered: list[tuple[str, str]] = []
        self._jobs = Latest(self)
        self._loading = ""  # the source being loaded
        self._listing = Latest(self)
        self.combo = _ListingCombo(objectName=f"{name}Combo", editable=True)
        self.combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.combo.setMinimumContentsLength(24)
        self.combo.lineEdit().setPlaceholderText("A run, a model folder, a .gguf file, or a hub id such as gpt2")
        self.combo.setToolTip("Pick a trained run or checkpoint, or type a model folder or a Hugging Face hub "
                              "id (hub ids need a network connection).")
        self.combo.lineEdit().returnPressed.connect(self.load)
        self.combo.activated.connect(lambda _: self.load())  # a model chosen from the list is loaded, as typed ones are
        # the popup is as wide as its longest entry, up to the screen; a longer one loses its middle, not the end
        # that tells a run's checkpoints apart
        self.combo.view().setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.combo.opening.connect(self.refresh)
        self.combo.currentIndexChanged.connect(self._show_path)
        browse = QPushButton("Browse…", objectName=f"{name}Browse", clicked=self.browse)
        browse.setToolTip("Choose a model folder (by its config.json, such as in a run's model/ folder) or a GGUF "
                          "file (imported once)")
        self.load_button = QPushButton("Load", objectName=f"{name}Load", clicked=self.load)
        self.load_button.setToolTip("Load this model (in the background; the window stays usable)")
        self.busy = QProgressBar(objectName=f"{name}Busy", maximum=0, visible=False, maximumHeight=8,
                                 textVisible=False)
        # only a GGUF import can be stopped part way (between tensors); a plain load is over in seconds
        self.cancel_button = QPushButton("Cancel", objectName=f"{name}Cancel", clicked=self.cancel, visible=False)
        self.cancel_button.setToolTip("Stop importing this GGUF file; nothing of it is kept")
        self.info = QLabel(self._info, objectName=f"{name}Info", wordWrap=True)
        self.info.setProperty("muted", True)
        self.error = ErrorLabel(f"{name}Error")
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(QLabel(f"<b>{title}</b>"), 0, 0, 1, 3)
        grid.addWidget(self.combo, 1, 0)
        grid.addWidget(browse, 1, 1)
        grid.addWidget(self.load_button, 1, 2)
        grid.addWidget(self.busy, 2, 0, 1, 2)
        grid.addWidget(self.cancel_button, 2, 2)
        grid.addWidget(self.info, 3, 0, 1, 3)
        grid.addWidget(self.error, 4, 0, 1, 3)

    def showEvent(self, event: Any) -> None:
        self.refresh()
        super().showEvent(event)

    def refresh(self) -> None:
        """List models loaded elsewhere in the window, then the workspace's runs (read in the background),
        keeping what is typed."""
        root = workspace.runs_dir(workspace.workspace())

        def work(progress: Any, control: Any) -> tuple[list[ModelChoice], list[Any]]:
            from studio.core.hub import local

            return model_choices(root), local.everything()  # runs, then the Models panel's list of this machine

        self._listing.start(work, done=lambda found: self._list(*found))

    @property
    def listing(self) -> bool:
        """Whether the workspace's runs are being read for the list."""
        return self._listing.running

    def _list(self, choices: list[ModelChoice], on_machine: list[Any] | None = None) -> None:
        current = self.combo.currentText()
        self.combo.blockSignals(True)
        self.combo.clear()
        listed = set()
        for source, label in self.offered:
            self._short[source] = label
            self.combo.addItem(f"{label} (loaded in the other panel)", source)
            self.combo.setItemData(self.combo.count() - 1, source, _TOOLTIP)
            listed.add(source)
        labels = [choice_label(c) for c in choices]
        for choice, text in zip(choices, labels, strict=True):
            if choice.path in listed:
                continue
            if labels.count(text) > 1:  # two runs of one model, task and minute: their names tell them apart
                text = f"{text} · {choice.run}"
            self.combo.addItem(text, choice.path)
            self._short[choice.path] = f"{choice.run} · {'final' if choice.step is None else f'step {choice.step:,}'}"
            self.combo.setItemData(self.combo.count() - 1, f"{choice.run}\n{choice.path}", _TOOLTIP)
        for model in on_machine or []:  # downloaded from the Hub, or in a folder added in the Models panel
            if model.path in listed:
                continue
            where = "downloaded" if model.in_cache else f"in {Path(model.path).parent}"
            self.combo.addItem(f"{Path(model.id).name if not model.in_cache else model.id} · {where}",
                               model.id if model.in_cache else model.path)
            self.combo.setItemData(self.combo.count() - 1, model.path, _TOOLTIP)
        self.combo.setCurrentIndex(-1)
        self.combo.setEditText(current)
        texts = [self.combo.itemText(i) for i in range(self.combo.count())]
        if texts:
            screen = self.screen().availableGeometry().width() if self.screen() else 1200
            wanted = max(map(self.combo.fontMetrics().horizontalAdvance, texts)) + 48
            self.combo.view().setMinimumWidth(min(wanted, int(screen * 0.9)))
        self.combo.lineEdit().setCursorPosition(0)
        self.combo.blockSignals(False)

    def _show_path(self, index: int) -> None:
        self.combo.setToolTip(str(self.combo.itemData(index, _TOOLTIP) or self.combo.currentText()))
        # a name too long for the box shows its beginning, which a person reads first (a line edit keeps its
        # cursor, and so its view, at the end of a text set into it)
        self.combo.lineEdit().setCursorPosition(0)

    def offer(self, source: str, label: str) -> None:
        """Make a model loaded in one panel the first choice in the pickers that share this list."""
        self.offered[:] = [(source, label)] + [o for o in self.offered if o[0] != source][:4]

    @property
    def choosing(self) -> bool:
        """Whether the person has the list open (a refresh now would close it under them)."""
        return self.combo.view().isVisible()

    def choose(self, source: str) -> None:
        index = self.combo.findData(source)
        if index >= 0:
            self.combo.setCurrentIndex(index)
        else:
            self.combo.setEditText(source)
        self.combo.lineEdit().setCursorPosition(0)

    def source(self) -> str:
        text = self.combo.currentText().strip()
        index = self.combo.findText(text)
        return str(self.combo.itemData(index)) if index >= 0 else text

    def browse(self) -> None:
        # one dialog for both: a model folder is chosen by its config.json
        path, _ = QFileDialog.getOpenFileName(self, "Choose a model: a folder's config.json, or a GGUF file", "",
                                              "Models (config.json *.gguf);;All files (*)")
        if path:
            self.combo.setEditText(str(Path(path).parent) if Path(path).name == "config.json" else path)
            self.load()

    def load(self) -> None:
        source = self.source()
        if self._jobs.running and source == self._loading:
            return  # Return in the box both chooses the entry and presses it: one load
        self._loading = source
        self.error.clear_message()
        if not source:
            self.error.show_message("Pick a run from the list, or type a model folder or hub id, then Load.")
            return
        # the list may still be on its way when a panel hands this picker a path
        label = self._short.get(source) or short_name(source)
        attn = self.attn_implementation

        def work(progress: Any, control: Any) -> Any:
            from studio.core.tasks import loaded as inference

            note = gguf.import_note(Path(source)) if gguf.is_gguf(source) else None
            if note:
                gguf.imported(Path(source), progress=lambda fraction, step: progress(fraction, f"{note}\n{step}"),
                              control=control)
            loaded = inference.load(source, attn_implementation=attn, progress=progress, control=control)
            return loaded, sum(p.numel() for p in loaded.model.parameters())

        self.busy.setMaximum(0)
        self.busy.show()
        self.load_button.setEnabled(False)
        self.info.setText(f"Loading {source}…")
        self._stopped_note = ("The import was cancelled; nothing of it was kept." if gguf.is_gguf(source) else
                              "The download was cancelled; what was fetched is kept, and loading it again goes on "
                              "from there.")
        self.load_started.emit()
        self._jobs.start(work, done=lambda result: self._loaded(*result, label), failed=self._failed,
                         cancelled=self._cancelled, progress=self._progress)

    def _progress(self, fraction: float, message: str) -> None:
        self.busy.setMaximum(100)
        self.busy.setValue(round(100 * fraction))
        self.cancel_button.show()
        self.info.setText(message)

    def cancel(self) -> None:
        self._jobs.cancel()
        self.cancel_button.setEnabled(False)
        self.info.setText("Stopping…")

    def _cancelled(self) -> None:
        self._idle()
        self.info.setText(f"{self._stopped_note} {self._info}")

    def _idle(self) -> None:
        self.busy.hide()
        self.cancel_button.hide()
        self.cancel_button.setEnabled(True)
        self.load_button.setEnabled(True)

    def _loaded(self, model: Any, parameters: int, label: str) -> None:
        self._idle()
        self.model = model
        self.label = label
        self._info = (f"{model.model.config.model_type} · {model.task.title.lower()} ({model.shape}) · "
                      f"{parameters / 1e6:.2f} M parameters · {model.device}")
        self.info.setText(self._info)
        self.info.setToolTip(model.source)
        self.loaded.emit(model)

    def _failed(self, text: str) -> None:
        self._idle()
        self.info.setText(self._info)
        kept = f" {self.label} stays loaded." if self.model is not None else ""
        self.error.show_message(text + kept)

    @property
    def loading(self) -> bool:
        return self._jobs.running
