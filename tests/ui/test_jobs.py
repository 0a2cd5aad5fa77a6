"""Quitting with a background job still at work: shutdown says so, so the app can leave without a
traceback from that job's thread."""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import QObject

from studio.ui.jobs import Job, shutdown
from tests.ui.helpers import TIMEOUT


def test_shutdown_reports_work_that_did_not_stop_in_time(qtbot):
    release = threading.Event()
    owner = QObject()
    job = Job(lambda progress, control: release.wait(10), owner).start()
    qtbot.waitUntil(lambda: job.running)
    assert shutdown(wait_ms=50) is False  # a model load ignores the cancel: it is still going
    release.set()
    assert shutdown(wait_ms=10_000) is True


def test_garbage_is_collected_on_the_gui_thread(window, qtbot):
    """Cycles are freed by a timer of the GUI thread, never by a background thread that happens to
    allocate (a Qt object freed off its thread can crash the process)."""
    import gc
    import weakref

    assert not gc.isenabled()  # no automatic collection, in any thread
    threads: list[str] = []

    class Cycle:
        def __init__(self) -> None:
            self.me = self

        def __del__(self) -> None:
            threads.append(threading.current_thread().name)

    alive = weakref.ref(Cycle())
    done = threading.Event()

    def allocate() -> None:  # what a model load does: objects kept, so a collection falls due
        kept = []
        while not done.is_set():
            kept += [[] for _ in range(100)]
            time.sleep(0.01)

    worker = threading.Thread(target=allocate, name="allocating")
    worker.start()
    try:
        qtbot.waitUntil(lambda: alive() is None, timeout=TIMEOUT)
    finally:
        done.set()
        worker.join()
    assert threads == [threading.main_thread().name]
