"""The place of a panel whose features arrive in a later release, saying so plainly."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


class ComingPanel(QWidget):
    def __init__(self, object_name: str, title: str, what: str) -> None:
        super().__init__()
        self.setObjectName(object_name)
        label = QLabel(f"<h3>{title}</h3><p>{what}</p><p>Not in this version yet. Until then the command line "
                       "does it: <code>studio generate</code>, <code>studio summarize</code>, "
                       "<code>studio attention</code>.</p>", alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True)
        layout = QVBoxLayout(self)
        layout.addWidget(label)
