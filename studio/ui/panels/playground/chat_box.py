"""The controls of a chat in the Playground: the system prompt, the template's text, and what can be done
with the conversation (answer the last question again, go back to an earlier one, clear, export)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QGroupBox,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
)

_PREVIEW_CHARS = 50


class ChatBox(QGroupBox):
    """`regenerate`, `clear`, `export` when their buttons are pressed; `back_to(question)` when an earlier
    question is chosen to edit; `template_toggled(on)`; `inspect` to see the conversation's attention."""

    regenerate = Signal()
    clear = Signal()
    export = Signal()
    back_to = Signal(int)
    template_toggled = Signal(bool)
    inspect = Signal()

    def __init__(self) -> None:
        super().__init__("Conversation", objectName="chatBox")
        self.system = QPlainTextEdit(objectName="systemPrompt")
        self.system.setPlaceholderText("System prompt (optional): how the assistant should answer")
        self.system.setFixedHeight(64)
        self.template = QCheckBox("Show the text the model reads", objectName="templateCheck")
        self.template.setToolTip("Show the conversation as the model's chat template writes it, special tokens "
                                 "included, instead of as a transcript")
        self.template.toggled.connect(self.template_toggled)
        self.again = QPushButton("Regenerate", objectName="regenerateButton")
        self.again.setToolTip("Answer the last question again (with sampling, a new answer)")
        self.edit = QPushButton("Edit a Question…", objectName="editTurnButton")
        self.edit.setToolTip("Go back to an earlier question: it and everything after it are taken out, and its "
                             "text is put in the message box to change and send again")
        self.edit.clicked.connect(self._choose_question)
        self.forget = QPushButton("Clear", objectName="clearChatButton")
        self.forget.setToolTip("Start a new conversation (this one stays in the session, for export)")
        self.save = QPushButton("Export JSONL…", objectName="exportChatButton")
        self.save.setToolTip("Save this session's conversations as messages JSON Lines, the format chat training "
                             "reads")
        self.attention = QPushButton("Attention…", objectName="chatAttentionButton")
        self.attention.setToolTip("Look at this conversation in the Attention panel: which earlier turn each token "
                                  "of an answer attends to (a question not yet sent is answered there)")
        for button, signal in ((self.again, self.regenerate), (self.forget, self.clear), (self.save, self.export),
                               (self.attention, self.inspect)):
            button.clicked.connect(signal.emit)  # a signal given as clicked= is called, not emitted
        self.questions: list[str] = []
        buttons = QGridLayout()  # two rows: in one, five buttons widened the side panel past a 1200-wide window
        for i, button in enumerate((self.again, self.edit, self.forget, self.save, self.attention)):
            buttons.addWidget(button, i // 3, i % 3)
        layout = QVBoxLayout(self)
        layout.addWidget(self.system)
        layout.addWidget(self.template)
        layout.addLayout(buttons)
        self.show_questions([])

    def system_prompt(self) -> str:
        return self.system.toPlainText().strip()

    def show_questions(self, questions: list[str]) -> None:
        """The user's questions so far: what Regenerate and Edit work on."""
        self.questions = list(questions)
        self.again.setEnabled(bool(questions))
        self.edit.setEnabled(bool(questions))

    def _choose_question(self) -> None:
        menu = self.question_menu()
        menu.popup(self.edit.mapToGlobal(self.edit.rect().bottomLeft()))

    def question_menu(self) -> QMenu:
        menu = QMenu(self, objectName="questionsMenu")
        for i, text in enumerate(self.questions):
            short = " ".join(text.split())
            short = short if len(short) <= _PREVIEW_CHARS else short[:_PREVIEW_CHARS - 1] + "…"
            action = menu.addAction(f"{i + 1}. {short}")
            action.triggered.connect(lambda _=False, i=i: self.back_to.emit(i))
        return menu
