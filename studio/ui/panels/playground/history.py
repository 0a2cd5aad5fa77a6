"""The session's prompts and outputs: listed newest first, copied, reused, exported as text or JSON."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from studio.core.errors import StudioError
from studio.core.playground.transcript import Entry, export, one_line
from studio.ui.widgets.messages import ErrorLabel


class History(QWidget):
    """`reuse(Entry)` when a person double-clicks an entry to put its prompt back."""

    reuse = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("playgroundHistory")
        self.entries: list[Entry] = []
        self.list = QListWidget(objectName="historyList")
        self.list.setToolTip("This session's prompts, newest first. Double-click to put one back in the editor.")
        self.list.itemDoubleClicked.connect(lambda item: self.reuse.emit(self.entries[self._index(item)]))
        self.list.itemSelectionChanged.connect(self._selection_changed)
        self.copy_button = QPushButton("Copy", objectName="copyHistoryButton", clicked=self.copy_selected,
                                       enabled=False)
        self.copy_button.setToolTip("Copy the selected prompt and its outputs as text")
        self.export_button = QPushButton("Export…", objectName="exportHistoryButton", clicked=self.choose_export,
                                         enabled=False)
        self.export_button.setToolTip("Save the whole session as text (.txt, .md) or JSON (.json)")
        self.error = ErrorLabel("historyError")
        buttons = QHBoxLayout()
        buttons.addWidget(QLabel("<b>History</b>"))
        buttons.addStretch(1)
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.error)

    def _index(self, item: QListWidgetItem) -> int:
        return len(self.entries) - 1 - self.list.row(item)

    def add(self, entry: Entry) -> None:
        self.entries.append(entry)
        self.list.insertItem(0, self._label(entry))
        self.export_button.setEnabled(True)

    def updated(self, entry: Entry) -> None:
        row = len(self.entries) - 1 - self.entries.index(entry)
        self.list.item(row).setText(self._label(entry))

    def _label(self, entry: Entry) -> str:
        stamp = time.strftime("%H:%M:%S", time.localtime(entry.time))
        # a written answer's length; an answer given at once (a label and its score) is shown itself
        outcomes = ", ".join(f"{o.tokens} tok" if o.written else one_line(o.text, 40) for o in entry.outputs)
        return f"{stamp}  {entry.mode}  {entry.title()}  ({outcomes or 'running'})"

    def _selection_changed(self) -> None:
        self.copy_button.setEnabled(bool(self.list.selectedItems()))

    def copy_selected(self) -> None:
        items = self.list.selectedItems()
        if items:
            QApplication.clipboard().setText(self.entries[self._index(items[0])].as_text())

    def choose_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export the session", "playground-session.txt",
                                              "Text (*.txt *.md);;JSON (*.json)")
        if path:
            self.export_to(Path(path))

    def export_to(self, path: Path) -> bool:
        self.error.clear_message()
        try:
            export(self.entries, path)
        except StudioError as exc:
            self.error.show_message(str(exc))
            return False
        return True
