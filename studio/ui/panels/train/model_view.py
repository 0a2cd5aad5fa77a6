"""The wizard's model page: a preset, a run to continue from, a model folder or a hub id; LoRA beside it,
and the size estimate under it.

Which presets and runs are offered comes from the task: a run is listed when its model can be trained
for the task (an MLM run for classification or tagging, not a summarizer for MLM).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QCompleter,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QWidget,
)

from studio.core.modeling.presets import PRESETS
from studio.core.runs import reader
from studio.core.system import workspace
from studio.core.tasks import registry
from studio.ui.jobs import Latest
from studio.ui.panels.train.lora_view import LoraSettings

PRESET, RUN, FOLDER, HUB = range(4)


class ModelChoice(QWidget):
    changed = Signal()

    def __init__(self) -> None:
        super().__init__()
        self._listing = Latest(self, light=True)  # the runs' records, read without torch
        self._start_note: tuple[tuple[str, str] | None, str] = (None, "")  # (task, model) and what its files say
        form = QFormLayout(self)
        self.kind_group = QButtonGroup(self)
        self.kind_preset = QRadioButton("Preset (built from config, trained from scratch)", objectName="modelKindPreset",
                                        checked=True)
        self.kind_run = QRadioButton("Continue from a run (its weights and tokenizer)", objectName="modelKindRun")
        self.kind_local = QRadioButton("Local model folder or GGUF file", objectName="modelKindLocal")
        self.kind_hub = QRadioButton("Hugging Face Hub id (needs a network the first time)", objectName="modelKindHub")
        self.preset = QComboBox(objectName="modelPreset", toolTip="Small architectures of four families")
        self.run = QComboBox(objectName="modelRun", toolTip="A run in the workspace: its final model, or its latest "
                                                            "checkpoint while it has none")
        self.local = QLineEdit(objectName="modelLocal",
                               placeholderText="a folder written by save_pretrained, or a .gguf file (imported once)")
        browse = QPushButton("Browse…", objectName="modelBrowse", clicked=self._browse,
                             toolTip="Choose a model folder (by its config.json) or a GGUF file")
        local_row = QHBoxLayout()
        local_row.addWidget(self.local, 1)
        local_row.addWidget(browse)
        for combo in (self.preset, self.run):  # a long description or run name is cut, not a wider window
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(30)
        self.hub = QLineEdit(objectName="modelHub", placeholderText="owner/name")
        self.note = QLabel(objectName="modelNote", wordWrap=True)
        self.note.setProperty("muted", True)
        self.estimate = QLabel(objectName="modelEstimate", wordWrap=True)
        self.lora = LoraSettings()
        for kind, button in ((PRESET, self.kind_preset), (RUN, self.kind_run), (FOLDER, self.kind_local),
                             (HUB, self.kind_hub)):
            self.kind_group.addButton(button, kind)
        for row in ((self.kind_preset,), ("Preset", self.preset), (self.kind_run,), ("Run", self.run),
                    (self.kind_local,), ("Folder", local_row), (self.kind_hub,), ("Hub id", self.hub), (self.note,),
                    (self.lora,), (self.estimate,)):
            form.addRow(*row)
        self.lora.changed.connect(self.changed)
        self.kind_group.idToggled.connect(lambda *_: self.changed.emit())
        self.preset.currentIndexChanged.connect(lambda _: self.changed.emit())
        self.run.currentIndexChanged.connect(lambda _: self._choose(self.kind_run))
        self.local.textEdited.connect(lambda _: self._choose(self.kind_local))
        self.hub.textEdited.connect(lambda _: self._choose(self.kind_hub))

    def show_task(self, task: Any) -> None:
        """Offer the task's presets and the runs it can continue from."""
        self.preset.blockSignals(True)
        self.preset.clear()
        for name in task.presets:
            self.preset.addItem(f"{name} — {PRESETS[name].description}", name)
        self.preset.blockSignals(False)
        self.refresh_runs(task)

    def refresh_runs(self, task: Any) -> None:
        """Offer the runs whose model `task` can train from, read in the background (each run's config is
        read to tell)."""
        root = workspace.runs_dir(workspace.workspace())
        def work(progress: Any, control: Any) -> tuple[list[tuple[str, str]], list[str]]:
            from studio.core.hub import local

            return _runs_for(task, root), [m.path for m in local.in_folders()]

        self._listing.start(work, done=lambda found: self._list_runs(*found))

    @property
    def listing(self) -> bool:
        """Whether runs are being read for the list of runs to train from."""
        return self._listing.running

    def _list_runs(self, found: list[tuple[str, str]], in_folders: list[str] | None = None) -> None:
        # the models of the folders added in the Models panel, offered as the folder box is typed in
        completer = QCompleter(in_folders or [], self.local)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.local.setCompleter(completer)
        current = self.run.currentData()
        self.run.blockSignals(True)
        self.run.clear()
        for text, path in found:
            self.run.addItem(text, path)
        self.run.setCurrentIndex(max(0, self.run.findData(current)))
        self.run.blockSignals(False)

    def explain(self, task: Any) -> None:
        """What a model brought for `task` must be; LoRA only for a model that has learned."""
        preset = self.kind_group.checkedId() == PRESET
        if preset:
            self.note.setText("")
        else:
            key = (task.name, self.name())
            if self._start_note[0] != key:  # the wizard explains at every keystroke; the run's files are read once
                self._start_note = (key, task.start_note(key[1]))
            self.note.setText(f"For {task.title.lower()}, {task.model_note}. {self._start_note[1]}".strip())
        self.lora.allow(not preset)

    def name(self) -> str:
        kind = self.kind_group.checkedId()
        return {PRESET: self.preset.currentData() or "", RUN: self.run.currentData() or "",
                FOLDER: self.local.text().strip(), HUB: self.hub.text().strip()}[kind]

    def use_hub(self, repo_id: str) -> None:
        """Choose `repo_id` as the model (the Models panel's "Train with it"): a hub id, or the path of a model in
        a folder the person added."""
        if Path(repo_id).is_absolute():
            self.local.setText(repo_id)
            self._choose(self.kind_local)
            return
        self.hub.setText(repo_id)
        self._choose(self.kind_hub)

    def preset_name(self) -> str | None:
        """The preset chosen, or None when the model is a run, a folder or a hub id."""
        return self.preset.currentData() if self.kind_group.checkedId() == PRESET else None

    def _choose(self, button: QRadioButton) -> None:
        if not button.isChecked():
            button.setChecked(True)  # typing a folder or hub id means that is the model
        self.changed.emit()

    def _browse(self) -> None:
        # one dialog for both, as in the model pickers: a folder is chosen by its config.json
        path, _ = QFileDialog.getOpenFileName(self, "Choose a model: a folder's config.json, or a GGUF file", "",
                                              "Models (config.json *.gguf);;All files (*)")
        if path:
            self.local.setText(str(Path(path).parent) if Path(path).name == "config.json" else path)
            self._choose(self.kind_local)


def _runs_for(task: Any, root: Any) -> list[tuple[str, str]]:
    """(label, run folder) of each run with a model `task` can train from, newest first."""
    found = []
    for info in reader.list_runs(root):
        folder = info.model_dir or (info.checkpoints[-1]["path"] if info.checkpoints else None)
        if folder is None:
            continue
        # the run's own record says which tasks its model trains into; only a run from before that record
        # has its model's config read with transformers (which imports torch)
        fits = task.name in info.trains_into if info.trains_into is not None else _fits(task, folder)
        if not fits:
            continue
        where = "final model" if info.model_dir else f"checkpoint {info.checkpoints[-1]['step']:,}"
        owner = registry.find(info.task)
        found.append((f"{info.name} ({info.model}, {owner.title.lower() if owner else info.task}, {where})",
                      info.path))
    return found


def _fits(task: Any, folder: str) -> bool:
    """Whether a saved model's config (a small JSON file) names a model type the task can train."""
    from studio.core.system.warm import warm_up

    warm_up()  # a light job: the heavy imports are made here, once, under their lock
    from transformers import AutoConfig

    try:
        return task.accepts(AutoConfig.from_pretrained(folder))
    except (OSError, ValueError):
        return False
