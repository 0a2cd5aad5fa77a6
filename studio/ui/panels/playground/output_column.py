"""One model's output: streamed text, then tokens coloured by probability, and the figures under it.

Tokens arrive from the generation job through a deque that a ~60 Hz timer drains, so a fast model
never sends the event loop one signal per token.
"""

from __future__ import annotations

import collections
from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from studio.ui.jobs import Latest
from studio.ui.widgets.messages import ErrorLabel
from studio.ui.widgets.name_label import NameLabel
from studio.ui.widgets.token_view import TokenView

_DRAIN_MS = 16


class OutputColumn(QWidget):
    """`finished(Generation)` when a generation ends (also when stopped; None when a newly loaded model
    replaced it); `failed(str)` on an error."""

    finished = Signal(object)
    failed = Signal(str)
    alternative_chosen = Signal(int, int)

    def __init__(self, name: str) -> None:
        super().__init__()
        self.setObjectName(name)
        self.title = NameLabel(f"{name}Title")
        self.view = TokenView(f"{name}View")
        self.view.setPlaceholderText("The output appears here, token by token.")
        self.view.alternative_chosen.connect(self.alternative_chosen)
        self.figures = QLabel("", objectName=f"{name}Figures")
        self.figures.setToolTip("Time to first token · tokens per second while generating · tokens generated")
        self.error = ErrorLabel(f"{name}Error")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.error)
        layout.addWidget(self.figures)
        self.coloured = False
        self.result: Any = None
        self.request: dict[str, Any] = {}
        self._queue: collections.deque = collections.deque()
        self._jobs = Latest(self)
        self._timer = QTimer(self, interval=_DRAIN_MS)
        self._timer.timeout.connect(self.drain)

    @property
    def running(self) -> bool:
        return self._jobs.running

    def run(self, loaded: Any, prompt: str, sampling: Any, forced: list[int] | None = None,
            history: tuple[dict[str, str], ...] = (), shown: str | None = None) -> None:
        """Answer `prompt` (after the chat `history`, if any), showing `shown` before the answer (by default
        the prompt, when the answer continues it)."""
        from studio.core.tasks.base import Request

        self.stop()
        self.request = {"loaded": loaded, "prompt": prompt, "sampling": sampling, "history": history,
                        "shown": shown}
        self.result = None
        self.error.clear_message()
        self.figures.setText("Generating…")
        self.view.start(shown if shown is not None else prompt if loaded.task.playground.echo_input else "")
        self._queue = queue = collections.deque()

        def work(progress: Any, control: Any) -> Any:
            request = Request(prompt, options={**sampling.__dict__, "forced": forced}, history=history)
            return loaded.task.answer(loaded, request, on_token=queue.append, control=control)

        self._timer.start()
        self._jobs.start(work, done=self._done, failed=self._failed)

    def stop(self) -> None:
        self._jobs.cancel()

    def drain(self) -> None:
        pieces = []
        while self._queue:
            pieces.append(self._queue.popleft().text)
        if pieces:
            self.view.append("".join(pieces))

    def _done(self, result: Any) -> None:
        self._timer.stop()
        self.drain()
        self.result = result
        self.view.show_tokens(result.tokens, self.coloured)
        new = len(result.tokens)
        ended = {"eos": "ended by the model", "length": "reached the limit", "stopped": "stopped"}[result.finish_reason]
        self.figures.setText(f"first token {result.time_to_first_token * 1000:,.0f} ms · "
                             f"{result.tokens_per_second:,.1f} tokens/s · {new:,} tokens in "
                             f"{result.seconds:,.2f} s · {ended}"
                             + (" · the prompt was cut to fit the model" if result.prompt_truncated else ""))
        self.finished.emit(result)

    def _failed(self, text: str) -> None:
        self._timer.stop()
        self.figures.setText("")
        self.error.show_message(text)
        self.failed.emit(text)

    def set_coloured(self, on: bool) -> None:
        self.coloured = on
        if self.result is not None:
            self.view.show_tokens(self.result.tokens, on)

    def show_text(self, text: str) -> None:
        """Show `text` alone (a conversation between answers)."""
        self.result = None
        self.view.start(text)

    def show_model(self, text: str) -> None:
        """A newly loaded model's name over an empty output: what was there came from the previous model."""
        self.title.setText(text)
        if self.running:
            self.stop()
            self._jobs.forget()  # its last tokens would land under the new model's name
            self.finished.emit(None)  # the panel counts this column as done
        self._timer.stop()
        self._queue.clear()
        self.result = None
        self.request = {}
        self.view.start("")
        self.figures.setText("")
        self.error.clear_message()
