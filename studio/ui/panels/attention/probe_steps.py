"""The steps at which a run recorded its probe text's attention, as a slider to walk them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QSlider, QVBoxLayout, QWidget


class ProbeSteps(QWidget):
    """`chosen(index)` when the slider moves to the `index`-th recorded step."""

    chosen = Signal(int)

    def __init__(self) -> None:
        super().__init__(objectName="probeBox", visible=False)
        self.steps: list[tuple[int, Path]] = []
        self.label = QLabel(objectName="probeLabel", wordWrap=True)
        self.slider = QSlider(Qt.Orientation.Horizontal, objectName="probeSlider")
        self.slider.setToolTip("The run recorded its probe text's attention at these training steps; "
                               "slide to watch the heads form")
        self.slider.valueChanged.connect(self.chosen)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("<b>During training</b>"))
        layout.addWidget(self.slider)
        layout.addWidget(self.label)

    def refresh(self, source: str | None) -> bool:
        """Re-read the run of the model `source` for recorded steps (a running run keeps adding them)."""
        from studio.core.attention import probe as attention_probe

        run = attention_probe.run_of(source) if source else None
        found = attention_probe.recorded(run) if run else []
        if found != self.steps:
            self.steps = found
            self.slider.blockSignals(True)
            self.slider.setRange(0, max(0, len(found) - 1))
            self.slider.blockSignals(False)
        self.setVisible(bool(found))
        return bool(found)

    def go_to_last(self) -> None:
        """Put the slider at the last step without announcing it (the caller shows that step itself)."""
        self.slider.blockSignals(True)
        self.slider.setValue(len(self.steps) - 1)
        self.slider.blockSignals(False)

    def describe(self, index: int) -> None:
        self.label.setText(f"Step {self.steps[index][0]:,} of {self.steps[-1][0]:,}: the run's probe text, "
                           f"{len(self.steps)} recorded steps. Slide to watch the heads form.")


def probe_text(att: Any, model: Any) -> str:
    """The text a recorded probe was: as the run's settings hold it, or else joined from its tokens (without the
    template's special tokens)."""
    if model is not None and model.settings.get("probe_text"):
        return str(model.settings["probe_text"])
    tokens = att.views()[next(iter(att.views()))][1]
    special = set(model.tokenizer.all_special_tokens) if model is not None else set()
    return "".join(t for t in tokens if t not in special)
