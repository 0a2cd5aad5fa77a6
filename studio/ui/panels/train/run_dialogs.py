"""The Runs tab's dialogs: a run's notes, and the settings two runs differ in."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.core.runs import compare


class NotesDialog(QDialog):
    def __init__(self, name: str, notes: str, parent: QWidget) -> None:
        super().__init__(parent, windowTitle=f"Notes: {name}")
        self.edit = QPlainTextEdit(notes, objectName="runNotes")
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.edit)
        layout.addWidget(box)
        self.resize(480, 300)

    def text(self) -> str:
        return self.edit.toPlainText()


class DiffDialog(QDialog):
    """The settings two runs differ in, side by side."""

    def __init__(self, a: Path, b: Path, parent: QWidget) -> None:
        super().__init__(parent, windowTitle="Settings that differ")
        rows = compare.config_diff(a, b)
        self.table = QTableWidget(len(rows), 3, objectName="configDiff")
        self.table.setHorizontalHeaderLabels(["Setting", a.name, b.name])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        for row, values in enumerate(rows):
            for col, value in enumerate(values):
                self.table.setItem(row, col, QTableWidgetItem("–" if value is None else str(value)))
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)
        note = QLabel("The two runs have the same settings." if not rows else
                      f"{len(rows)} setting{'s' if len(rows) > 1 else ''} differ.")
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        box.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addWidget(self.table, 1)
        layout.addWidget(box)
        self.resize(720, 360)
