"""One extractive QA model's answer: the best answer in large type with its score, the context with the best
span highlighted and the next best spans underlined, and a table of the candidates."""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtWidgets import QAbstractItemView, QLabel, QTableWidget, QTableWidgetItem, QTextBrowser

from studio.ui.panels.playground.answer_column import AnswerColumn

_HINT = "Paste a context and ask a question: the answer is highlighted in the context as you type."
_CANDIDATES = 5
_BEST, _OTHER = "#e0a33a", "#4f8cff"


class AnswersColumn(AnswerColumn):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.options = {"top_k": _CANDIDATES}
        self.answer_label = QLabel(_HINT, objectName=f"{name}Answer", wordWrap=True)
        self.answer_label.setStyleSheet("font-size: 15px; font-weight: 600;")
        self.context = QTextBrowser(objectName=f"{name}Context")
        self.context.setToolTip("The context: the best answer highlighted, the next best underlined")
        self.table = QTableWidget(0, 3, objectName=f"{name}Candidates")
        self.table.setHorizontalHeaderLabels(("Answer", "Score", "Where"))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setToolTip("The likeliest spans, best first; the score is the probability of its start times "
                              "that of its end")
        self.table.horizontalHeader().setStretchLastSection(True)
        for widget, stretch in ((self.answer_label, 0), (self.context, 2), (self.error, 0), (self.table, 1)):
            self.layout_.addWidget(widget, stretch)

    def show_result(self, result: Any) -> None:
        best = result.answers[0] if result.answers else None
        if best is None:
            self.answer_label.setText("No answer found.")
        else:
            self.answer_label.setText(f"{html.escape(best.text) or '(no answer in the context)'}  {best.score:.1%}")
        self.context.setHtml(f'<div style="white-space: pre-wrap">{_marked(result.context, result.answers)}</div>')
        # two token spans widened to the same words are one answer to a person (the pipeline lists both)
        shown, seen = [], set()
        for a in result.answers:
            if (a.start, a.end) not in seen:
                seen.add((a.start, a.end))
                shown.append(a)
        self.table.setRowCount(len(shown))
        for row, a in enumerate(shown):
            for column, value in enumerate((" ".join(a.text.split()) or "(no answer)", f"{a.score:.1%}",
                                            f"{a.start}–{a.end}")):
                self.table.setItem(row, column, QTableWidgetItem(value))
        self.table.resizeColumnsToContents()

    def empty(self) -> None:
        self.answer_label.setText(_HINT)
        self.context.clear()
        self.table.setRowCount(0)


def _marked(context: str, answers: list[Any]) -> str:
    """The context as HTML: the best span on an amber ground, other candidates that do not overlap a marked
    span underlined in blue."""
    marks: list[tuple[int, int, bool]] = []
    for i, a in enumerate(answers):
        if a.end > a.start and all(a.end <= s or a.start >= e for s, e, _ in marks):
            marks.append((a.start, a.end, i == 0))
    parts, at = [], 0
    for start, end, best in sorted(marks):
        parts.append(html.escape(context[at:start]))
        style = f"background-color:{_BEST}; color:#111" if best else f"text-decoration: underline; color:{_OTHER}"
        parts.append(f'<span style="{style}">{html.escape(context[start:end])}</span>')
        at = end
    parts.append(html.escape(context[at:]))
    return "".join(parts)
