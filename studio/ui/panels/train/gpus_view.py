"""The wizard's "GPUs to use": how many processes train the run (one per GPU), and whether they shard it.

Shown only where there is a choice, on a machine with more than one CUDA GPU; the engine starts the
processes through accelerate's launcher, and the monitor follows them like any run.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QSpinBox, QWidget


class GpuSettings(QWidget):
    changed = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.count = QSpinBox(objectName="gpuCount", minimum=1, maximum=1, value=1)
        self.count.setToolTip("One training process per GPU, each with its own batch of the size above (data "
                              "parallel): N GPUs train N times the rows per step")
        self.shard = QCheckBox("Shard the model across them (FSDP)", objectName="fsdpCheck")
        self.shard.setToolTip("Each GPU keeps a slice of the weights, gradients and optimizer state instead of a "
                              "whole copy: for a model too big for one GPU; a little slower otherwise")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.count)
        row.addWidget(self.shard, 1)
        self.count.valueChanged.connect(self._count_changed)
        self.shard.toggled.connect(self.changed)
        self._count_changed(1)

    def set_available(self, gpus: int) -> None:
        """The CUDA GPUs this machine has; the row is shown when there is more than one."""
        self.count.setMaximum(max(1, gpus))
        self.setVisible(gpus > 1)

    def _count_changed(self, value: int) -> None:
        self.shard.setEnabled(value > 1)
        if value == 1:
            self.shard.setChecked(False)
        self.changed.emit()

    def values(self) -> dict[str, Any]:
        return {"num_processes": self.count.value(), "fsdp": self.shard.isChecked()}
