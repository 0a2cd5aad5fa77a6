"""A label for a name that may be long (a run, a model, a path): cut in the middle with an ellipsis to the
width it is given, the whole name in its tooltip. A plain QLabel asks for its text's whole width, so one
long run name widened the window past the screen."""

from __future__ import annotations

from PySide6.QtCore import Qt
from superqt import QElidingLabel


class NameLabel(QElidingLabel):
    def __init__(self, object_name: str) -> None:
        super().__init__("", objectName=object_name)
        # the start (the date, the model) and the end (which checkpoint) of a run's name tell runs apart
        self.setElideMode(Qt.TextElideMode.ElideMiddle)
        font = self.font()
        font.setBold(True)  # a column's title, as the <b> of the label it replaces
        self.setFont(font)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        super().setText(text)
        self.setToolTip(text)
