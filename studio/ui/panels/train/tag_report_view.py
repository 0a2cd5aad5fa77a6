"""An evaluation's report for a tagger: precision, recall and F1 per entity type, and the validation
sentences with a wrong tag, the gold spans above the model's; a link tries a sentence in the Playground."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from studio.ui.widgets.entities import legend_html, words_html


class TagReportView(QWidget):
    row_chosen = Signal(str)  # a sentence, its words joined as the model reads them

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("tagReportView")
        self.title = QLabel(objectName="tagReportTitle", wordWrap=True)
        self.table = QTableWidget(0, 5, objectName="perTypeTable")
        self.table.setHorizontalHeaderLabels(("Type", "Precision", "Recall", "F1", "Entities"))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setToolTip("Entity-level scores per type: a span counts when its start, end and type all match")
        self.mistakes = QTextBrowser(objectName="tagMistakes", openLinks=False)
        self.mistakes.setToolTip("Validation sentences with a wrong tag: the gold spans, then the model's")
        self.mistakes.anchorClicked.connect(lambda url: self._choose(int(url.toString().split(":")[-1])))
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.table)
        splitter.addWidget(self.mistakes)
        splitter.setSizes([320, 600])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(splitter, 1)
        self.report: dict[str, Any] = {}

    def show_report(self, report: dict[str, Any]) -> None:
        self.report = report
        kinds = list(report["per_type"])
        self.title.setText(f"<b>Evaluation at step {report.get('step', 0):,}</b>: entity F1 {report['f1']:.3f} "
                           f"(precision {report['precision']:.3f}, recall {report['recall']:.3f}), token accuracy "
                           f"{report['accuracy']:.1%}. {legend_html(kinds)}")
        self.table.setRowCount(len(kinds))
        for row, kind in enumerate(kinds):
            s = report["per_type"][kind]
            for column, value in enumerate((kind, f"{s['precision']:.3f}", f"{s['recall']:.3f}", f"{s['f1']:.3f}",
                                            f"{s['support']:,}")):
                self.table.setItem(row, column, QTableWidgetItem(value))
        parts = []
        for i, m in enumerate(report.get("mistakes", [])):
            parts.append(f"<p><b>gold</b>&nbsp; {words_html(m['words'], m['gold'], kinds)}<br>"
                         f"<b>model</b> {words_html(m['words'], m['predicted'], kinds)} "
                         f"<a href='row:{i}'>try it</a></p>")
        self.mistakes.setHtml("".join(parts) or "<p>No mistakes in the validation sentences.</p>")

    def _choose(self, index: int) -> None:
        mistakes = self.report.get("mistakes", [])
        if 0 <= index < len(mistakes):
            self.row_chosen.emit(" ".join(mistakes[index]["words"]))
