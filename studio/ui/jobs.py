"""Running core work off the UI thread, with throttled progress, cancel, and errors as sentences.

Built on superqt's thread-pool workers. Progress is throttled at the source (at most ~10 signals a
second), so a tokenizer reporting every batch cannot flood the event loop.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Signal

from studio.core.control import Control
from studio.core.errors import Cancelled
from studio.ui.errors import describe

_MIN_INTERVAL_S = 0.1


_RUNNING: set[Job] = set()  # jobs live until their worker ends, even if the widget that asked is gone


class Job(QObject):
    """`fn(progress, control)` in a worker thread; `progress(fraction, message)` may be called from it.

    Results are delivered only while `owner` still exists, so closing a panel mid-job is harmless.
    """

    progress = Signal(float, str)
    done = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, fn: Callable[[Callable[[float, str], None], Control], Any], owner: QObject, *,
                 light: bool = False) -> None:
        super().__init__()
        self._fn = fn
        self._light = light  # reads files only: no need to import torch and transformers first
        self._owner = owner
        self.control = Control()
        self._last = 0.0
        self._worker: Any = None
        self._active = False  # from start() until the worker ends; the pool may not have begun it yet

    def _report(self, fraction: float, message: str = "") -> None:
        now = time.monotonic()
        if fraction >= 1.0 or now - self._last >= _MIN_INTERVAL_S:
            self._last = now
            if self._alive():
                self.progress.emit(fraction, message)

    def _call(self) -> Any:
        if not self._light:
            from studio.core.system.warm import warm_up

            warm_up()
        return self._fn(self._report, self.control)

    def start(self) -> Job:
        from superqt.utils import create_worker

        self._worker = create_worker(self._call, _start_thread=False, _ignore_errors=True)  # we report them
        self._worker.returned.connect(self._returned)
        self._worker.errored.connect(self._errored)
        self._worker.finished.connect(self._finished)
        _RUNNING.add(self)
        self._active = True
        self._worker.start()
        return self

    def _alive(self) -> bool:
        return shiboken6.isValid(self._owner)

    def _returned(self, result: Any) -> None:
        if self._alive():
            self.done.emit(result)

    def cancel(self) -> None:
        self.control.stop()

    def _finished(self) -> None:
        self._active = False
        _RUNNING.discard(self)

    @property
    def running(self) -> bool:
        return self._active

    def _errored(self, exc: BaseException) -> None:
        if not self._alive():
            return
        if isinstance(exc, Cancelled):
            self.cancelled.emit()
        else:
            self.failed.emit(describe(exc))


def shutdown(wait_ms: int = 3000) -> bool:
    """At quit: ask every background job to stop and give them a moment, so none reports to a window
    that is gone. False when work could not stop in time (a model still loading): the caller abandons it
    with the process."""
    from PySide6.QtCore import QThreadPool

    for job in list(_RUNNING):
        job.cancel()
    return QThreadPool.globalInstance().waitForDone(wait_ms)


class Latest:
    """A slot of background work where only the latest request counts: a job started here silences the
    one before it, so an answer for the text of two keystrokes ago, or for the model before the one just
    loaded, never reaches the screen. `cancel_previous` also asks the earlier job to stop."""

    def __init__(self, owner: QObject, *, cancel_previous: bool = False, light: bool = False) -> None:
        self._owner = owner
        self._cancel_previous = cancel_previous
        self._light = light
        self.job: Job | None = None

    @property
    def running(self) -> bool:
        return self.job is not None and self.job.running

    def start(self, fn: Callable[[Callable[[float, str], None], Control], Any], *,
              done: Callable[[Any], Any] | None = None, failed: Callable[[str], Any] | None = None,
              cancelled: Callable[[], Any] | None = None,
              progress: Callable[[float, str], Any] | None = None) -> Job:
        if self._cancel_previous:
            self.cancel()
        job = Job(fn, self._owner, light=self._light)
        self.job = job
        for signal, slot in ((job.done, done), (job.failed, failed), (job.cancelled, cancelled),
                             (job.progress, progress)):
            if slot is not None:
                signal.connect(lambda *args, slot=slot: job is self.job and slot(*args))
        return job.start()

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()

    def forget(self) -> None:
        """Silence the job on its way (its request no longer matters), without stopping it."""
        self.job = None
