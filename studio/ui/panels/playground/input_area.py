"""The Playground's input: the text (a prompt, a text to classify, a question), the second text a pair task
reads (a question's context) above it, and the buttons that run, stop, open a file and insert a mask. Its
titles, placeholder and run button follow the loaded model's task."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from studio.core.errors import ConfigError
from studio.ui.widgets.messages import ErrorLabel


class InputArea(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.prompt_label = QLabel(objectName="promptLabel")
        self.prompt = QPlainTextEdit(objectName="promptEdit")
        self.pair_label = QLabel(objectName="pairLabel")
        self.pair = QPlainTextEdit(objectName="pairEdit")
        self.open_text = QPushButton("Open Text File…", objectName="openTextButton", clicked=self.choose_text_file)
        self.open_text.setToolTip("Read the text (or the prompt) from a UTF-8 text file")
        self.insert_mask = QPushButton("Insert Mask", objectName="insertMaskButton")
        self.insert_mask.setToolTip("Put the model's mask token at the cursor: the model fills it in")
        self.run_button = QPushButton("Run", objectName="runButton")
        self.stop_button = QPushButton("Stop", objectName="stopButton", enabled=False)
        self.stop_button.setToolTip("Stop now; what has been generated so far is kept  (Esc)")
        self.run_error = ErrorLabel("runError")
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_text)
        buttons.addWidget(self.insert_mask)
        buttons.addStretch(1)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.run_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.pair_label)
        layout.addWidget(self.pair, 2)
        layout.addWidget(self.prompt_label)
        layout.addWidget(self.prompt, 1)
        layout.addWidget(self.run_error)
        layout.addLayout(buttons)

    def show_spec(self, spec: Any, hint: str, mask_button: bool) -> None:
        """Titles, placeholder and run button for a model whose task's Playground is `spec` (None: no model)."""
        self.open_text.setVisible(not (spec and spec.conversation))  # a turn is typed, not a file
        self.insert_mask.setVisible(mask_button)
        title = spec.input_title if spec else "Prompt"
        self.prompt_label.setText(f"<b>{title}</b>")
        paired = bool(spec and spec.pair_title)
        self.pair_label.setVisible(paired)
        self.pair.setVisible(paired)
        if paired:
            self.pair_label.setText(f"<b>{spec.pair_title}</b>")
            self.pair.setPlaceholderText(f"Paste the {spec.pair_title.lower()} here: the text that holds the answer.")
        action = spec.action if spec else "Run"
        self.run_button.setText(action)
        self.run_button.setToolTip(f"{action} with the settings on the left  (Ctrl+Return)")
        self.prompt.setPlaceholderText(hint or (f"Type or paste the {title.lower()}, then {action} (Ctrl+Return)."
                                                if spec else "Load a model on the left to begin."))

    def busy(self, on: bool) -> None:
        self.stop_button.setEnabled(on)
        self.run_button.setEnabled(not on)

    def add_mask(self, mask: str | None) -> None:
        if mask:
            self.prompt.insertPlainText(mask)
            self.prompt.setFocus()

    def fill_in(self, mask: str, index: int, token: str) -> None:
        """Put `token` in place of the `index`-th `mask` of the text."""
        text = self.prompt.toPlainText()
        at = -1
        for _ in range(index + 1):
            at = text.find(mask, at + 1)
        if at < 0:
            return
        piece = token.lstrip() if at > 0 and text[at - 1].isspace() else token
        self.prompt.setPlainText(text[:at] + piece + text[at + len(mask):])

    def lines(self) -> list[str]:
        return [line for line in self.prompt.toPlainText().splitlines() if line.strip()]

    def choose_text_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a text file", "", "Text (*.txt *.md *.py);;All files (*)")
        if path:
            self.open_text_file(Path(path))

    def open_text_file(self, path: Path) -> None:
        from studio.core.playground import text_file

        self.run_error.clear_message()
        try:
            self.prompt.setPlainText(text_file.read(path))
        except ConfigError as exc:
            self.run_error.show_message(str(exc))
