"""What the Attention panel runs through the model: a text, and by the model's kind a conversation box, a
decoder target (encoder-decoders) or a second text (a question's context, for a task that reads a pair)."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QCheckBox, QLabel, QPlainTextEdit, QVBoxLayout, QWidget

_TEXT_HINT = "The text to look at (up to the model's length)."
_CONVERSATION_HINT = "You: What is a list?\nAssistant: An ordered collection.\nYou: And a tuple?"


class AttentionInputs(QWidget):
    def __init__(self) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.text_label = QLabel("<b>Text</b>")
        layout.addWidget(self.text_label)
        self.text = QPlainTextEdit(objectName="attentionText")
        self.text.setPlaceholderText(_TEXT_HINT)
        self.text.setMaximumHeight(110)
        layout.addWidget(self.text)
        self.pair_label = QLabel(visible=False)
        self.pair = QPlainTextEdit(objectName="attentionPair", visible=False)
        self.pair.setMaximumHeight(130)
        layout.addWidget(self.pair_label)
        layout.addWidget(self.pair)
        self.as_conversation = QCheckBox("A conversation, under the model's chat template",
                                         objectName="conversationCheck", visible=False)
        self.as_conversation.setToolTip("Read the text as turns ('System:', 'You:', 'Assistant:' lines, or messages "
                                        "JSON); ending on your turn, the model answers it. The map marks each turn.")
        self.as_conversation.toggled.connect(self._placeholder)
        layout.addWidget(self.as_conversation)
        self.target_label = QLabel("<b>Target</b> (decoder side)")
        self.target = QPlainTextEdit(objectName="attentionTarget")
        self.target.setPlaceholderText("Empty: the model writes its own answer (greedy) and that is shown.")
        self.target.setMaximumHeight(70)
        layout.addWidget(self.target_label)
        layout.addWidget(self.target)

    def configure(self, model: Any) -> None:
        """Show the boxes that the loaded model's kind reads."""
        seq2seq = model.model.config.is_encoder_decoder
        chats = not seq2seq and bool(getattr(model.tokenizer, "chat_template", None))
        self.as_conversation.setVisible(chats)
        if not chats:
            self.as_conversation.setChecked(False)
        self.target_label.setVisible(seq2seq)
        self.target.setVisible(seq2seq)
        spec = model.task.playground
        paired = bool(spec and spec.pair_title) and not seq2seq
        self.pair_label.setVisible(paired)
        self.pair.setVisible(paired)
        self.text_label.setText(f"<b>{spec.input_title}</b>" if paired else "<b>Text</b>")
        if paired:
            self.pair_label.setText(f"<b>{spec.pair_title}</b> (read after the {spec.input_title.lower()})")
            self.pair.setPlaceholderText(f"The {spec.pair_title.lower()}; the map shows which of its tokens the "
                                         f"{spec.input_title.lower()}'s tokens look at.")

    def read(self) -> dict[str, Any]:
        """What to extract, as plain data for the background job."""
        return {"text": self.text.toPlainText(),
                "target": self.target.toPlainText() if self.target.isVisibleTo(self) else None,
                "pair": self.pair.toPlainText() if self.pair.isVisibleTo(self) else None,
                "conversation": self.as_conversation.isChecked() and self.as_conversation.isVisibleTo(self)}

    def _placeholder(self, conversation: bool) -> None:
        self.text.setPlaceholderText(_CONVERSATION_HINT if conversation else _TEXT_HINT)
