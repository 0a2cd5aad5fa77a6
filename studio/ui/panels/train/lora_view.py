"""The wizard's LoRA settings: a switch, and the adapters' rank, scale, dropout and layers beside it."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QDoubleSpinBox, QHBoxLayout, QLabel, QLineEdit, QSpinBox, QVBoxLayout, QWidget

from studio.core.training.config import RunConfig


class LoraSettings(QWidget):
    changed = Signal()

    def __init__(self) -> None:
        super().__init__()
        d = RunConfig()
        self.enabled = QCheckBox("Train small adapters (LoRA), not every weight", objectName="loraCheck")
        self.enabled.setToolTip("The model's weights stay frozen; small low-rank adapters beside its layers learn "
                                "instead. Far less memory (no gradients or optimizer state for the frozen weights), "
                                "so bigger models fit. For a model that has already learned: not for a preset.")
        self.rank = QSpinBox(objectName="loraRank", minimum=1, maximum=1024, value=d.lora_r,
                             toolTip="The adapters' rank: more learns more and costs more (4 to 64 is usual)")
        self.alpha = QDoubleSpinBox(objectName="loraAlpha", decimals=1, minimum=0.1, maximum=4096.0,
                                    value=d.lora_alpha, toolTip="Their scale is alpha / rank (usually twice the rank)")
        self.dropout = QDoubleSpinBox(objectName="loraDropout", decimals=2, minimum=0.0, maximum=0.9, singleStep=0.05,
                                      value=d.lora_dropout, toolTip="Dropout on the adapters' input")
        self.targets = QLineEdit(objectName="loraTargets", placeholderText="layers: the usual for the family")
        self.targets.setToolTip("Which linear layers get adapters, by name (c_attn, query,value, q_proj,v_proj, ...) "
                                "or all-linear; empty takes the usual choice for the model family")
        self.quantized = QCheckBox("4-bit base (QLoRA)", objectName="qloraCheck")
        self.quantized.setToolTip("Load the frozen base in 4 bits through bitsandbytes: about a quarter of its memory. "
                                  "Needs a CUDA GPU.")
        self.details = QWidget()
        row = QHBoxLayout(self.details)
        row.setContentsMargins(0, 0, 0, 0)
        for label, widget in (("Rank", self.rank), ("Alpha", self.alpha), ("Dropout", self.dropout)):
            row.addWidget(QLabel(label))
            row.addWidget(widget)
        row.addWidget(self.targets, 1)
        row.addWidget(self.quantized)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.enabled)
        layout.addWidget(self.details)
        self.enabled.toggled.connect(self._toggled)
        for spin in (self.rank, self.alpha, self.dropout):
            spin.valueChanged.connect(self.changed)
        self.targets.textChanged.connect(self.changed)
        self.quantized.toggled.connect(self.changed)
        self._toggled(False)

    def _toggled(self, on: bool) -> None:
        self.details.setEnabled(on)
        self.changed.emit()

    def allow(self, allowed: bool) -> None:
        """LoRA adapts a trained model; for a preset (random weights) the switch is off and says why."""
        if not allowed:
            self.enabled.setChecked(False)
        self.enabled.setEnabled(allowed)

    def values(self) -> dict[str, Any]:
        return {"lora": self.enabled.isChecked(), "lora_r": self.rank.value(), "lora_alpha": self.alpha.value(),
                "lora_dropout": self.dropout.value(), "lora_targets": self.targets.text().strip(),
                "qlora": self.enabled.isChecked() and self.quantized.isChecked()}
