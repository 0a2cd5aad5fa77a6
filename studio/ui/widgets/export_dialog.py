"""The Export dialog: a model to a folder, a GGUF file, an Ollama folder or the Hub (studio.core.export).

Before anything starts it says what will be written and how big it is, or why the choice cannot work;
that plan is worked out in the background whenever a choice changes. The export itself runs in the
background too, with its progress and a Cancel that leaves nothing behind. Opened from the Runs list, the
monitor when a run ends, and the Playground's loaded model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from studio.core.export import exporter, to_gguf
from studio.core.system import workspace
from studio.ui.jobs import Latest
from studio.ui.widgets.messages import ErrorLabel

_TITLES = {"hf": "Model folder (transformers)", "gguf": "GGUF file (llama.cpp, LM Studio)",
           "ollama": "Ollama (GGUF file and Modelfile)", "hub": "Hugging Face Hub"}
_PLAN_DELAY_MS = 300  # typing a path replans once the person pauses
_CONTROLS = {"out": "place to save it", "overwrite": "tick Replace what is there"}


def open_export_dialog(model: str, parent: QWidget) -> ExportDialog:
    """The dialog for `model` over `parent`, which keeps it until it is closed."""
    dialog = ExportDialog(model, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog


class ExportDialog(QDialog):
    def __init__(self, model: str, parent: QWidget | None = None) -> None:
        super().__init__(parent, windowTitle=f"Export {Path(model).name}")
        self.setObjectName("exportDialog")
        self.model = model
        self.planned: exporter.Planned | None = None
        self._model: exporter.Model | None = None
        self._planning = Latest(self, cancel_previous=True)
        self._export = Latest(self)
        self.format = QComboBox(objectName="exportFormat")
        for name, title in _TITLES.items():
            self.format.addItem(title, name)
            self.format.setItemData(self.format.count() - 1, exporter.FORMATS[name], Qt.ItemDataRole.ToolTipRole)
        self.quant = QComboBox(objectName="exportQuant", toolTip="How the GGUF file keeps each weight: f16 and bf16 "
                               "keep 16 bits, q8_0 8 bits (about half the size, close in quality), f32 all 32")
        for quant in to_gguf.QUANTS:
            self.quant.addItem(quant, quant)
        # a model folder keeps the weights as the model has them: said, not offered as a choice it would ignore
        self.own_weights = QLabel("as the model keeps them", objectName="exportOwnWeights")
        weights = QHBoxLayout()
        weights.addWidget(self.quant)
        weights.addWidget(self.own_weights, 1)
        self.out = QLineEdit(objectName="exportOut")
        self._chosen = {"local": "", "hub": ""}  # a place the person chose or typed, kept when the format changes
        self.browse = QPushButton("Browse…", objectName="exportBrowse", clicked=self._browse)
        where = QHBoxLayout()
        where.addWidget(self.out, 1)
        where.addWidget(self.browse)
        self.public = QCheckBox("Public repository (private unless ticked)", objectName="exportPublic")
        self.overwrite = QCheckBox("Replace what is there", objectName="exportOverwrite")
        form = QFormLayout()
        form.addRow("Format", self.format)
        form.addRow("Weights", weights)
        self.where_label = QLabel("Save to")
        form.addRow(self.where_label, where)
        form.addRow("", self.public)
        form.addRow("", self.overwrite)
        self.plan_text = QLabel("", objectName="exportPlan", wordWrap=True)
        self.error = ErrorLabel("exportError")
        self.stage = QLabel("", objectName="exportStage", wordWrap=True)
        self.progress = QProgressBar(objectName="exportProgress", visible=False)
        self.command = QLineEdit(objectName="exportCommand", readOnly=True, visible=False)
        self.copy = QPushButton("Copy", objectName="exportCopy", visible=False,
                                clicked=lambda: QGuiApplication.clipboard().setText(self.command.text()))
        command = QHBoxLayout()
        command.addWidget(self.command, 1)
        command.addWidget(self.copy)
        self.start = QPushButton("Export", objectName="exportStart", enabled=False, clicked=self._start,
                                 default=True)
        self.cancel = QPushButton("Close", objectName="exportCancel", clicked=self._cancel)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.start)
        buttons.addWidget(self.cancel)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"<b>{model}</b>", wordWrap=True))
        layout.addLayout(form)
        layout.addWidget(self.plan_text)
        layout.addWidget(self.error)
        layout.addWidget(self.stage)
        layout.addWidget(self.progress)
        layout.addLayout(command)
        layout.addStretch(1)
        layout.addLayout(buttons)
        self._replan = QTimer(self, singleShot=True, interval=_PLAN_DELAY_MS, timeout=self.replan)
        self.format.currentIndexChanged.connect(self._format_changed)
        for signal in (self.quant.currentIndexChanged, self.public.toggled, self.overwrite.toggled):
            signal.connect(self.replan)
        self.out.textEdited.connect(self._typed)
        self.quant.setCurrentIndex(self.quant.findData(exporter.DEFAULT_QUANT))
        self._format_changed()
        self.resize(640, 380)

    # ---- choices and their plan ---------------------------------------------------------------------
    @property
    def fmt(self) -> str:
        return self.format.currentData()

    def _format_changed(self) -> None:
        fmt = self.fmt
        quantized = fmt in ("gguf", "ollama")
        self.quant.setVisible(quantized)
        self.quant.setEnabled(quantized)
        self.own_weights.setVisible(not quantized)
        self.public.setVisible(fmt == "hub")
        self.overwrite.setVisible(fmt != "hub")
        self.browse.setVisible(fmt != "hub")
        self.where_label.setText("Repository" if fmt == "hub" else "Save to")
        self.out.setPlaceholderText("your-name/model-name" if fmt == "hub" else "")
        self.out.setText(self._out_for(fmt))
        self.replan()

    def _typed(self, text: str) -> None:
        self._chosen["hub" if self.fmt == "hub" else "local"] = text
        self._replan.start()

    def _out_for(self, fmt: str) -> str:
        """The place the person chose, fitted to the format (a .gguf file name for gguf, a folder for the others),
        or the format's default in the workspace's exports folder."""
        if fmt == "hub":
            return self._chosen["hub"]
        chosen = self._chosen["local"].strip()
        if chosen:
            path = Path(chosen)
            return str(path.with_suffix("")) if fmt != "gguf" and path.suffix.lower() == ".gguf" else chosen
        name = Path(self.model).name or "model"
        exports = workspace.workspace() / "exports"
        return str(exports / (f"{name}-{self.quant.currentData()}.gguf" if fmt == "gguf" else f"{name}-{fmt}"))

    def _browse(self) -> None:
        current = self.out.text() or str(Path.home())
        if self.fmt == "gguf":
            chosen, _ = QFileDialog.getSaveFileName(self, "Save the GGUF file", current, "GGUF files (*.gguf)")
            if chosen:
                self.overwrite.setChecked(Path(chosen).exists())  # the file dialog asked already
        else:
            chosen = QFileDialog.getExistingDirectory(self, "Choose a new or empty folder", str(Path(current).parent))
        if chosen:
            self.out.setText(chosen)
            self._chosen["local"] = chosen
            self.replan()

    def replan(self) -> None:
        """Work out the plan for the current choices, in the background."""
        self._replan.stop()
        self.start.setEnabled(False)
        self.planned = None
        if not self._export.running:  # what the last export wrote is not what these choices would
            self.stage.setText("")
            self.command.hide()
            self.copy.hide()
        out = self.out.text().strip()
        if not out:
            self.plan_text.setText("Give a repository id." if self.fmt == "hub" else "Choose where to save it.")
            self.error.clear_message()
            return
        self.plan_text.setText("Checking…")
        self.error.clear_message()
        quant = self.quant.currentData() if self.fmt in ("gguf", "ollama") else None
        fmt, overwrite, public = self.fmt, self.overwrite.isChecked(), self.public.isChecked()
        known = self._model  # read once, on the first plan: each choice after it only checks itself

        def work(progress: Any, control: Any) -> tuple[exporter.Model, exporter.Planned]:
            found = known or exporter.look(self.model)
            return found, exporter.plan(found, fmt, out, quant, overwrite=overwrite, public=public,
                                        controls=_CONTROLS)

        self._planning.start(work, done=self._planned, failed=self._refused)

    def _planned(self, result: tuple[exporter.Model, exporter.Planned]) -> None:
        self._model, planned = result
        dtype = self._model.config.get("dtype") or self._model.config.get("torch_dtype")
        self.own_weights.setText(f"as the model keeps them ({dtype})" if dtype else "as the model keeps them")
        self.planned = planned
        self.error.clear_message()
        self.plan_text.setText("\n".join(planned.describe()))
        self.start.setEnabled(not self._export.running)

    def _refused(self, message: str) -> None:
        self.plan_text.setText("")
        self.error.show_message(message)

    # ---- the export ---------------------------------------------------------------------------------
    @property
    def exporting(self) -> bool:
        return self._export.running

    def _start(self) -> None:
        if self.planned is None:
            return
        planned = self.planned
        for w in (self.format, self.quant, self.out, self.browse, self.public, self.overwrite, self.start):
            w.setEnabled(False)
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.show()
        self.command.hide()
        self.copy.hide()
        self.cancel.setText("Cancel")
        self.stage.setText("Starting…")

        def work(progress: Any, control: Any) -> exporter.Result:
            return exporter.run(planned, control=control,
                                progress=lambda stage, fraction: progress(-1.0 if fraction is None else fraction, stage))

        self._export.start(work, done=self._done, failed=self._failed, cancelled=self._cancelled,
                           progress=self._progress)

    def _progress(self, fraction: float, stage: str) -> None:
        self.stage.setText(stage)
        if fraction < 0:
            self.progress.setRange(0, 0)  # a stage whose length is unknown (an upload)
        else:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(fraction * 1000))

    def _done(self, result: exporter.Result) -> None:
        self._finish(replan=False)  # what is there now is the export: planning it again would refuse it
        self.plan_text.setText("")
        self.stage.setText(result.message)
        if result.command:
            self.command.setText(result.command)
            self.command.show()
            self.copy.show()

    def _failed(self, message: str) -> None:
        self._finish()
        self.stage.setText("")
        self.error.show_message(message)

    def _cancelled(self) -> None:
        self._finish()
        self.stage.setText("The export was cancelled; nothing of it was kept.")

    def _finish(self, replan: bool = True) -> None:
        self.progress.hide()
        self.cancel.setText("Close")
        for w in (self.format, self.out, self.browse, self.public, self.overwrite):
            w.setEnabled(True)
        self.quant.setEnabled(self.fmt in ("gguf", "ollama"))
        if replan:
            self.replan()

    def _cancel(self) -> None:
        if self._export.running:
            self._export.cancel()
            self.stage.setText("Cancelling…")
        else:
            self.reject()

    def reject(self) -> None:
        if self._export.running:  # Esc or the window's close button while writing: cancel first
            self._export.cancel()
            return
        super().reject()

