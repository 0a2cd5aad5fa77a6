"""Quitting with a background job still at work: shutdown says so, so the app can leave without a
traceback from that job's thread."""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject

from studio.ui.jobs import Job, shutdown


def test_shutdown_reports_work_that_did_not_stop_in_time(qtbot):
    release = threading.Event()
    owner = QObject()
    job = Job(lambda progress, control: release.wait(10), owner).start()
    qtbot.waitUntil(lambda: job.running)
    assert shutdown(wait_ms=50) is False  # a model load ignores the cancel: it is still going
    release.set()
    assert shutdown(wait_ms=10_000) is True
