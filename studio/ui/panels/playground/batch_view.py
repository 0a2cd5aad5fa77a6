"""Batch classification: every line of the text (or of a file) classified, in a table a person can
sort and export as CSV. Runs in the background with progress, and stops on request."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.core.errors import StudioError
from studio.ui.jobs import Latest
from studio.ui.widgets.messages import ErrorLabel

_MAX_FILE = 50 * 2**20


class _Number(QTableWidgetItem):
    def __init__(self, value: float) -> None:
        super().__init__(f"{value:.1%}")
        self.value = value

    def __lt__(self, other: QTableWidgetItem) -> bool:
        return self.value < getattr(other, "value", 0.0)


class BatchView(QWidget):
    """`wanted(list[str])` when the person asks for lines to be classified (the panel adds the model)."""

    wanted = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("batchView")
        self.predictions: list[Any] = []
        self._jobs = Latest(self)
        self.run_button = QPushButton("Classify Each Line", objectName="batchButton")
        self.run_button.setToolTip("Classify every non-empty line of the text above, in batches")
        self.file_button = QPushButton("Classify a File…", objectName="batchFileButton", clicked=self.choose_file)
        self.file_button.setToolTip("Classify every non-empty line of a UTF-8 text file")
        self.export_button = QPushButton("Export CSV…", objectName="exportBatchButton", enabled=False,
                                         clicked=self.choose_export)
        self.export_button.setToolTip("Save the table as CSV: text, label, score and every label's probability")
        self.progress = QProgressBar(objectName="batchProgress", visible=False, maximumHeight=14)
        self.stop_button = QPushButton("Stop", objectName="batchStop", visible=False, clicked=self.stop)
        self.summary = QLabel(objectName="batchSummary")
        self.error = ErrorLabel("batchError")
        self.table = QTableWidget(0, 3, objectName="batchTable")
        self.table.setHorizontalHeaderLabels(("Text", "Label", "Score"))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setToolTip("Click a column title to sort by it")
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)  # the text takes the room the figures leave
        top = QHBoxLayout()
        top.addWidget(QLabel("<b>Batch</b>"))
        for w in (self.run_button, self.file_button, self.export_button, self.progress, self.stop_button):
            top.addWidget(w)
        top.addWidget(self.summary, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.error)
        layout.addWidget(self.table, 1)

    @property
    def running(self) -> bool:
        return self._jobs.running

    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Classify each line of a file", "", "Text (*.txt *.csv);;All (*)")
        if path:
            self.classify_file(Path(path))

    def classify_file(self, path: Path) -> None:
        self.error.clear_message()
        try:
            if path.stat().st_size > _MAX_FILE:
                raise OSError(0, "it is larger than 50 MB; use `studio classify --file` for files that large")
            lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        except UnicodeDecodeError:
            self.error.show_message(f"'{path.name}' is not UTF-8 text; open a plain text file.")
            return
        except OSError as exc:
            self.error.show_message(f"Cannot read '{path.name}' ({exc.strerror}).")
            return
        self.wanted.emit(lines)

    def run(self, loaded: Any, lines: list[str]) -> None:
        self.error.clear_message()
        if not lines:
            self.error.show_message("There are no lines to classify; type some, one per line, or pick a file.")
            return
        self.stop()
        self.progress.setValue(0)
        self.progress.show()
        self.stop_button.show()
        self.run_button.setEnabled(False)
        self._jobs.start(lambda progress, control: loaded.task.answer_each(
            loaded, lines, {}, progress=lambda f: progress(f, ""), control=control),
            progress=lambda f, _: self.progress.setValue(int(f * 100)), done=self._done,
            failed=lambda text: (self._idle(), self.error.show_message(text)), cancelled=self._idle)

    def stop(self) -> None:
        self._jobs.cancel()

    def _idle(self) -> None:
        self.progress.hide()
        self.stop_button.hide()
        self.run_button.setEnabled(True)

    def _done(self, predictions: list[Any]) -> None:
        self._idle()
        self.predictions = predictions
        names = list(predictions[0].scores) if predictions else []
        self.table.setSortingEnabled(False)
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # lines in their order
        self.table.clear()
        self.table.setColumnCount(3 + len(names))
        self.table.setHorizontalHeaderLabels(["Text", "Label", "Score", *names])
        self.table.setRowCount(len(predictions))
        for row, p in enumerate(predictions):
            text = QTableWidgetItem(p.text)
            text.setToolTip(p.text)
            self.table.setItem(row, 0, text)
            self.table.setItem(row, 1, QTableWidgetItem(p.label))
            self.table.setItem(row, 2, _Number(p.score))
            for column, name in enumerate(names, start=3):
                self.table.setItem(row, column, _Number(p.scores[name]))
        self.table.setSortingEnabled(True)
        self.table.resizeColumnsToContents()
        self.table.setColumnWidth(0, min(self.table.columnWidth(0), 420))
        counts: dict[str, int] = {}
        for p in predictions:
            counts[p.label] = counts.get(p.label, 0) + 1
        self.summary.setText(f"{len(predictions):,} lines: " + ", ".join(
            f"{n} {c:,}" for n, c in sorted(counts.items(), key=lambda kv: -kv[1])[:6]))
        self.export_button.setEnabled(bool(predictions))

    def clear(self) -> None:
        self.stop()
        self.predictions = []
        self.table.setRowCount(0)
        self.summary.setText("")
        self.export_button.setEnabled(False)

    def choose_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export the predictions", "predictions.csv", "CSV (*.csv)")
        if path:
            self.export_to(Path(path))

    def export_to(self, path: Path) -> bool:
        from studio.core.playground.classification import write_csv

        self.error.clear_message()
        try:
            write_csv(path, self.predictions)
        except StudioError as exc:
            self.error.show_message(str(exc))
            return False
        return True
