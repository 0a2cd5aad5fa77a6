"""Any answer as the lines its output kind writes on a terminal: the view of a kind that brings no view
of its own (a task from another package), so its models can be tried in the Playground at once."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QPlainTextEdit

from studio.ui.panels.playground.answer_column import AnswerColumn


class LinesColumn(AnswerColumn):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.text = QPlainTextEdit(objectName=f"{name}Lines", readOnly=True)
        self.layout_.addWidget(self.text, 1)
        self.layout_.addWidget(self.error)
        self.kind: Any = None

    def show_model(self, text: str, loaded: Any = None) -> None:
        super().show_model(text)
        if loaded is not None:
            self.kind = loaded.task.output

    def show_result(self, result: Any) -> None:
        self.text.setPlainText("\n".join(self.kind.lines(result)) if self.kind is not None else str(result))

    def empty(self) -> None:
        self.text.clear()
