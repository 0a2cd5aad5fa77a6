"""Qt tests run offscreen, with settings and the workspace in temp dirs."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch, qapp):
    from PySide6.QtCore import QSettings, QStandardPaths

    QStandardPaths.setTestModeEnabled(True)
    QSettings().clear()
    monkeypatch.setenv("STUDIO_WORKSPACE", str(tmp_path / "workspace"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    yield
    QSettings().clear()


@pytest.fixture
def window(qtbot):
    from studio.ui.main_window import MainWindow

    w = MainWindow()
    w.confirm_close_while_training = lambda: True
    qtbot.addWidget(w)
    w.show()
    w.finish_setup()
    yield w
    if w.train_panel.training:
        w.train_panel.stop_and_wait()
    from studio.ui.jobs import shutdown

    shutdown()  # background jobs end before the next test's window, as at quit
