"""A column that answers a text at once (a classifier's labels, a masked model's candidates, a tagger's
entities): asked again as the person types, each request in a background job, only the latest shown."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from studio.ui.jobs import Latest
from studio.ui.widgets.messages import ErrorLabel
from studio.ui.widgets.name_label import NameLabel


class AnswerColumn(QWidget):
    """`finished(result)` when an answer arrives; `failed(str)` on an error. The model's task answers (off
    the UI thread, with the column's `options`); subclasses say how to show an answer and how to empty
    the view."""

    finished = Signal(object)
    failed = Signal(str)

    def __init__(self, name: str) -> None:
        super().__init__()
        self.setObjectName(name)
        self.title = NameLabel(f"{name}Title")
        self.error = ErrorLabel(f"{name}Error")
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.layout_.addWidget(self.title)
        self.result: Any = None
        self._jobs = Latest(self)
        self.options: dict[str, Any] = {}  # what the task's `answer` reads from the request (a mask's top_k)

    @property
    def running(self) -> bool:
        return self._jobs.running

    def show_model(self, text: str, loaded: Any = None) -> None:
        self.title.setText(text)

    def ask(self, loaded: Any, text: str, pair: str = "") -> None:
        """Answer `text` (with `pair`, the second text a pair task reads: a question's context)."""
        from studio.core.tasks.base import Request

        request = Request(text, pair=pair, options=self.options)
        self._jobs.start(lambda progress, control: loaded.task.answer(loaded, request, control=control),
                         done=self._answered, failed=self._failed)

    def _answered(self, result: Any) -> None:
        self.result = result
        self.error.clear_message()
        self.show_result(result)
        self.finished.emit(result)

    def show_result(self, result: Any) -> None:
        raise NotImplementedError

    def _failed(self, message: str) -> None:
        self.empty()
        self.error.show_message(message)
        self.failed.emit(message)

    def clear(self) -> None:
        self.result = None
        self._jobs.forget()  # an answer still on its way belongs to the text or model before
        self.empty()

    def empty(self) -> None:
        raise NotImplementedError
