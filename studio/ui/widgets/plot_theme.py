"""pyqtgraph plots in the window's own colours, so a light window does not hold black plot panes."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication


def new_plot(object_name: str) -> Any:
    import pyqtgraph as pg

    palette = QApplication.palette()
    plot = pg.PlotWidget(objectName=object_name, background=palette.color(QPalette.ColorRole.Base))
    text = palette.color(QPalette.ColorRole.Text)
    for side in ("left", "bottom"):
        axis = plot.getAxis(side)
        axis.setPen(text)
        axis.setTextPen(text)
    return plot
