"""The monitor's table of sample answers: what the model answered to the same prompts at each
evaluation, newest first, beside the reference answer, so a person sees one answer change across a run."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

_COLUMNS = ("Step", "Prompt", "Answer", "Reference")
_CELL_CHARS = 160


class SamplesView(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("samplesView")
        self.samples: list[dict[str, Any]] = []
        self.prompt = QComboBox(objectName="samplesPrompt")
        self.prompt.setToolTip("Follow one prompt across the run's evaluations")
        self.prompt.currentIndexChanged.connect(self._fill)
        self.table = QTableWidget(0, len(_COLUMNS), objectName="samplesTable")
        self.table.setHorizontalHeaderLabels(_COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        for column in (1, 2, 3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
        top = QHBoxLayout()
        top.addWidget(QLabel("<b>Sample answers</b> at each evaluation (greedy, repetition penalty 1.2), newest first"))
        top.addStretch(1)
        top.addWidget(self.prompt)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.table)

    def set_all(self, samples: list[dict[str, Any]]) -> None:
        """A run's answers as the store keeps them ({"step", "prompt", "output", "reference"}, oldest first)."""
        self.samples = list(samples)
        self._prompts()

    def add(self, step: int, answers: list[dict[str, Any]]) -> None:
        self.samples += [dict(a, step=step) for a in answers]
        self._prompts()

    def clear(self) -> None:
        self.set_all([])

    def _prompts(self) -> None:
        wanted = self.prompt.currentData()
        self.prompt.blockSignals(True)
        self.prompt.clear()
        self.prompt.addItem("All prompts", None)
        for prompt in dict.fromkeys(s["prompt"] for s in self.samples):
            self.prompt.addItem(_short(prompt, 48), prompt)
        self.prompt.setCurrentIndex(max(0, self.prompt.findData(wanted)))
        self.prompt.blockSignals(False)
        self._fill()

    def _fill(self, *_: Any) -> None:
        chosen = self.prompt.currentData()
        shown = [s for s in self.samples if chosen is None or s["prompt"] == chosen]
        # newest evaluation first; within one, the prompts in their order
        order = sorted(range(len(shown)), key=lambda i: (-shown[i]["step"], i))
        previous = {}  # an answer the same as the evaluation before reads lighter: the change stands out
        for s in self.samples:
            previous.setdefault(s["prompt"], {})[s["step"]] = s["output"]
        self.table.setRowCount(len(order))
        for row, i in enumerate(order):
            sample = shown[i]
            steps = sorted(previous[sample["prompt"]])
            index = steps.index(sample["step"])
            same = index > 0 and previous[sample["prompt"]][steps[index - 1]] == sample["output"]
            cells = (f"{sample['step']:,}", sample["prompt"], sample["output"], sample.get("reference", ""))
            for column, text in enumerate(cells):
                # an untrained model often writes only spaces or newlines: say so rather than show nothing
                item = QTableWidgetItem(_short(text, _CELL_CHARS) if text.strip() or column != 2 else "(blank)")
                item.setToolTip(text)
                if column == 0:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if column == 2:
                    font = QFont(item.font())
                    font.setBold(not same)
                    item.setFont(font)
                    if same:
                        item.setToolTip(f"{text}\n\n(the same answer as at step {steps[index - 1]:,})")
                self.table.setItem(row, column, item)


def _short(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[:width - 1] + "…"
