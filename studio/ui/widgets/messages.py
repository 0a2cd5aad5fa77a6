"""Inline messages: an error shown next to the control that caused it (hidden while there is none), and a
warning style for a label."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel


class ErrorLabel(QLabel):
    def __init__(self, object_name: str) -> None:
        super().__init__()
        self.setObjectName(object_name)
        self.setWordWrap(True)
        self.setStyleSheet("color: #d9534f; font-weight: 600;")
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hide()

    def show_message(self, text: str) -> None:
        self.setText(text)
        self.show()

    def clear_message(self) -> None:
        self.setText("")
        self.hide()


WARNING_STYLE = "color: #c26a00;"  # amber: readable on the light and the dark palette


def mark_warning(label: QLabel, warning: bool) -> None:
    """Show `label`'s text as a warning (an estimate over what the device has), or as ordinary text."""
    label.setStyleSheet(WARNING_STYLE if warning else "")
