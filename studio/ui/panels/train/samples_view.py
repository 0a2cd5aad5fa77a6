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

from studio.core.runs.summary import one_line

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
            self.prompt.addItem(one_line(prompt, 48), prompt)
        self.prompt.setCurrentIndex(max(0, self.prompt.findData(wanted)))
        self.prompt.blockSignals(False)
        self._fill()

    def _fill(self, *_: Any) -> None:
        chosen = self.prompt.currentData()
        # an answer the same as at the prompt's evaluation before reads lighter, so a change stands out
        repeats: dict[int, int] = {}  # index in self.samples -> the step it repeats
        before: dict[str, tuple[int, str]] = {}
        for i in sorted(range(len(self.samples)), key=lambda i: self.samples[i]["step"]):
            sample = self.samples[i]
            step, output = before.get(sample["prompt"], (None, None))
            if output == sample["output"]:
                repeats[i] = step
            before[sample["prompt"]] = (sample["step"], sample["output"])
        # newest evaluation first; within one, the prompts in their order
        shown = sorted((i for i, s in enumerate(self.samples) if chosen is None or s["prompt"] == chosen),
                       key=lambda i: (-self.samples[i]["step"], i))
        self.table.setRowCount(len(shown))
        for row, i in enumerate(shown):
            sample, repeated = self.samples[i], repeats.get(i)
            cells = (f"{sample['step']:,}", sample["prompt"], sample["output"], sample.get("reference", ""))
            for column, text in enumerate(cells):
                # an untrained model often writes only spaces or newlines: say so rather than show nothing
                item = QTableWidgetItem(one_line(text, _CELL_CHARS) if text.strip() or column != 2 else "(blank)")
                item.setToolTip(text)
                if column == 0:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if column == 2:
                    font = QFont(item.font())
                    font.setBold(repeated is None)
                    item.setFont(font)
                    if repeated is not None:
                        item.setToolTip(f"{text}\n\n(the same answer as at step {repeated:,})")
                self.table.setItem(row, column, item)
