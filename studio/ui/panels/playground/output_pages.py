"""The Playground's output area: one page per kind of output, each with a column per model side by side."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSplitter, QStackedWidget, QWidget

from studio.ui import outputs as views


def output_pages(streams: list[QWidget], answers: dict[str, list[Any]], batch: QWidget
                 ) -> tuple[QStackedWidget, dict[str, int]]:
    """The stack of pages: the streamed text columns first, then each answer kind's columns (by the kind's
    name), the batch table under the kind that answers lines; with each kind's page index."""
    side = QSplitter(Qt.Orientation.Horizontal, objectName="outputsSplitter")
    for column in streams:
        side.addWidget(column)
    stack = QStackedWidget(objectName="outputsStack")
    stack.addWidget(side)
    kinds = {kind.name: kind for kind in views.kinds()}
    pages: dict[str, int] = {}
    for name, columns in answers.items():
        side_by_side = QSplitter(Qt.Orientation.Horizontal, objectName=f"{name}Splitter")
        for column in columns:
            side_by_side.addWidget(column)
        page: QWidget = side_by_side
        if views.view_of(kinds[name]).batch:
            page = QSplitter(Qt.Orientation.Vertical, objectName=f"{name}Page")
            page.addWidget(side_by_side)
            page.addWidget(batch)
            page.setSizes([200, 220])
        pages[name] = stack.addWidget(page)
    return stack, pages
