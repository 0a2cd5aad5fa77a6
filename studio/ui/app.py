"""Starting the window: Qt first, everything heavy after the window is on screen.

Only PySide6 is imported before `show()`. pyqtgraph, torch and transformers follow on the next turns
of the event loop and in a background thread, so the window appears in well under a second.
"""

from __future__ import annotations

import os
import sys
import threading
import time

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPalette
from PySide6.QtWidgets import QApplication

from studio.ui import resources

APP_NAME = "Transformer Studio"
ORG_NAME = "Transformer Studio"


class Warmup(QObject):
    """Imports the engine off the UI thread and reports the device it found, and how many CUDA GPUs."""

    device_found = Signal(str, int)

    def start(self) -> None:
        threading.Thread(target=self._run, name="studio-warmup", daemon=True).start()

    def _run(self) -> None:
        from studio.core.system import device as devices
        from studio.core.system.warm import warm_up

        warm_up()
        chosen = devices.pick_device("auto")
        text = devices.describe(chosen)
        gpus = 0
        if chosen.startswith("cuda"):
            import torch

            gpus = torch.cuda.device_count()
            total = devices.memory_total(chosen) / 2**30
            text = f"{text}, {total:.0f} GiB" + (f" (and {gpus - 1} more)" if gpus > 1 else "")
        self.device_found.emit(text, gpus)


def make_app(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv)
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(ORG_NAME)
    app.setWindowIcon(QIcon(str(resources.icon_path())))
    app.setStyle("Fusion")
    apply_palette(app)
    hints = QGuiApplication.styleHints()
    if hasattr(hints, "colorSchemeChanged"):
        hints.colorSchemeChanged.connect(lambda *_: apply_palette(app))
    return app


def apply_palette(app: QApplication) -> None:
    """Light or dark to match the system. Set explicitly because not every platform plugin hands Fusion
    a dark palette when the system is dark."""
    dark = is_dark()
    app.setPalette(dark_palette() if dark else app.style().standardPalette())
    app.setStyleSheet(dark_indicators() if dark else "")


def dark_indicators() -> str:
    """Check boxes and radio buttons for the dark palette. Fusion outlines them a shade darker than the
    window, which on a dark window leaves them nearly invisible; no palette role changes that outline."""
    rules = []
    for widget, name in (("QCheckBox", "checkbox"), ("QRadioButton", "radio"), ("QAbstractItemView", "checkbox")):
        rules.append(f"{widget}::indicator {{ width: 14px; height: 14px; }}")
        for state, suffix in (("unchecked", "off"), ("checked", "on")):
            rules.append(f'{widget}::indicator:{state} {{ image: url("{_url(f"{name}-{suffix}")}"); }}')
            rules.append(f'{widget}::indicator:{state}:disabled {{ image: url("{_url(f"{name}-{suffix}-disabled")}"); }}')
    return "\n".join(rules)


def _url(name: str) -> str:
    return resources.indicator_path(name).as_posix()


def dark_palette() -> QPalette:
    colours = {QPalette.ColorRole.Window: "#202225", QPalette.ColorRole.WindowText: "#e6e6e6",
               QPalette.ColorRole.Base: "#16181b", QPalette.ColorRole.AlternateBase: "#24272b",
               QPalette.ColorRole.Text: "#e6e6e6", QPalette.ColorRole.Button: "#2b2e33",
               QPalette.ColorRole.ButtonText: "#e6e6e6", QPalette.ColorRole.Highlight: "#4f8cff",
               QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.ToolTipBase: "#2b2e33",
               QPalette.ColorRole.ToolTipText: "#e6e6e6", QPalette.ColorRole.PlaceholderText: "#8a8f98",
               QPalette.ColorRole.Link: "#7aa7ff"}
    palette = QPalette()
    for role, colour in colours.items():
        palette.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6b7079"))
    return palette


def is_dark() -> bool:
    """The system's scheme, unless STUDIO_THEME=light or dark overrides it."""
    forced = os.environ.get("STUDIO_THEME", "").lower()
    if forced in ("light", "dark"):
        return forced == "dark"
    hints = QGuiApplication.styleHints()
    if hasattr(hints, "colorScheme"):
        return hints.colorScheme() == Qt.ColorScheme.Dark
    return QGuiApplication.palette().color(QPalette.ColorRole.Window).lightness() < 128


def run(argv: list[str] | None = None) -> int:
    started = time.perf_counter()
    app = make_app(argv)
    from studio.ui.main_window import MainWindow

    window = MainWindow()
    window.show()
    window.startup_seconds = time.perf_counter() - started
    warmup = Warmup()
    warmup.device_found.connect(window.set_device)
    QTimer.singleShot(0, window.finish_setup)
    QTimer.singleShot(0, warmup.start)
    code = app.exec()
    from studio.ui.jobs import shutdown

    if not shutdown():
        # A job still running (a model loading) would outlive the objects it reports to while Python tears
        # them down and print a traceback from its thread; nothing it holds needs saving (runs train in
        # their own process, and everything the window writes is written atomically), so leave now.
        from PySide6.QtCore import QSettings

        QSettings().sync()  # the window's layout and recent files, saved on close, reach the disk first
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code
