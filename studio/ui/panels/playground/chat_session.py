"""The Playground's chats: one conversation per output column, so side by side two models answer the same
questions, each in its own conversation. The panel hands a chat model's turns here; this keeps the
conversations, shows them, and asks the columns for the next answer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QFileDialog

from studio.core.errors import StudioError
from studio.core.playground.conversation import Conversation, export_jsonl
from studio.ui.panels.playground.chat_box import ChatBox


class ChatSession:
    def __init__(self, panel: Any, box: ChatBox) -> None:
        self.panel = panel
        self.box = box
        self.chats = [Conversation(), Conversation()]
        self.past: list[Conversation] = []  # cleared conversations, kept for export
        self.asked: dict[int, str] = {}  # the question each running column is answering
        box.regenerate.connect(self.regenerate)
        box.clear.connect(self.clear)
        box.export.connect(self.choose_export)
        box.back_to.connect(self.back_to)
        box.template_toggled.connect(lambda _on: self.show())
        box.inspect.connect(self.inspect)

    def shown(self, i: int, pending: str | None) -> str:
        """What column `i` shows before its answer: the transcript, or the text the model reads."""
        chat, model = self.chats[i], self.panel.pickers[i].model
        if self.box.template.isChecked() and model is not None:
            try:
                return chat.template_text(model.tokenizer, pending)
            except Exception as exc:  # noqa: BLE001 - a template's own error, shown in its place
                return f"(the chat template cannot show this conversation: {exc})"
        return chat.transcript(pending)

    def ask(self, question: str, models: list[tuple[int, Any]], sampling: Any,
            forced: dict[int, list[int]] | None = None) -> None:
        """Every column in `models` answers `question` after its conversation so far."""
        for i, _ in models:
            self.chats[i].system = self.box.system_prompt()
            self.asked[i] = question
        self.panel.start_jobs(question, [(i, model, question, sampling, (forced or {}).get(i), self.chats[i].history(),
                                          self.shown(i, question)) for i, model in models])

    def answered(self, i: int, result: Any) -> None:
        question = self.asked.pop(i, None)
        if question is not None and result is not None:
            self.chats[i].answered(question, result.text)
        self.box.show_questions(self.chats[self.panel.active[0]].questions())

    def all_answered(self) -> None:
        if self.panel.prompt.toPlainText() in self.chats[0].questions()[-1:]:
            self.panel.prompt.clear()

    def regenerate(self) -> None:
        """The last question again, in every column that has answered it."""
        if self.panel.generating:
            return
        active = [i for i in self.panel.active if self.chats[i].questions()]
        if not active:
            return
        question = ""
        for i in active:
            question = self.chats[i].back_to(len(self.chats[i].questions()) - 1)
        self.panel.run_turn(question, active)

    def from_token(self, i: int, forced: list[int]) -> None:
        """Column `i`'s last answer again from one of its tokens a person chose (the rest regenerated)."""
        chat = self.chats[i]
        if not chat.questions():
            return
        question = chat.back_to(len(chat.questions()) - 1)
        self.panel.run_turn(question, [i], {i: forced})

    def back_to(self, question: int) -> None:
        if self.panel.generating:
            return
        text = ""
        for i in self.panel.active:
            if question < len(self.chats[i].questions()):
                text = self.chats[i].back_to(question)
        self.panel.prompt.setPlainText(text)
        self.panel.prompt.setFocus()
        self.show()

    def clear(self, *_: Any, columns: list[int] | None = None) -> None:
        for i in columns if columns is not None else [0, 1]:
            if self.chats[i].turns:
                self.past.append(self.chats[i])
            self.chats[i] = Conversation()
        self.show()

    def show(self) -> None:
        for i in self.panel.active:
            if not self.panel.columns[i].running:
                self.panel.columns[i].show_text(self.shown(i, None))
        self.box.show_questions(self.chats[self.panel.active[0]].questions())

    def inspect(self) -> None:
        """Hand the first column's conversation, with a question typed but not sent, to the Attention panel."""
        i = self.panel.active[0]
        model, pending = self.panel.pickers[i].model, self.panel.prompt.toPlainText().strip() or None
        self.chats[i].system = self.box.system_prompt()
        if model is None or not (self.chats[i].turns or pending):
            self.panel.run_error.show_message("Chat with the model first (or type a question): the Attention panel "
                                              "shows the conversation and the model's answer.")
            return
        self.panel.conversation_inspected.emit(model.source, self.chats[i].transcript(pending))

    def choose_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self.panel, "Export conversations", "conversations.jsonl",
                                              "JSON Lines (*.jsonl)")
        if path:
            self.export(Path(path))

    def export(self, path: Path) -> None:
        self.panel.run_error.clear_message()
        try:
            count = export_jsonl(self.past + [c for c in self.chats if c.turns], path)
        except StudioError as exc:
            self.panel.run_error.show_message(str(exc))
            return
        self.panel.mode_label.setText(f"Exported {count} conversation{'s' * (count != 1)} to {path.name}.")
