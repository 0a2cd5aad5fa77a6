"""A thread-safe control object that long-running core functions check at step boundaries.

The UI (or the CLI's Ctrl-C handler) calls `stop()`, `pause()`, `resume()` or `request_save()` from
any thread; the engine calls `checkpoint()` between steps. Events rather than flags polled with sleep,
so a paused job wakes the moment it is resumed or stopped.
"""

from __future__ import annotations

import threading

from studio.core.errors import Cancelled


class Control:
    def __init__(self) -> None:
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._save = threading.Event()

    def stop(self) -> None:
        self._stop.set()
        self._running.set()  # wake a paused job so it can see the stop

    def pause(self) -> None:
        if not self._stop.is_set():
            self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def request_save(self) -> None:
        self._save.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def take_save_request(self) -> bool:
        """True once per `request_save()` call; the engine saves a checkpoint when it sees it."""
        if self._save.is_set():
            self._save.clear()
            return True
        return False

    def wait_while_paused(self) -> None:
        self._running.wait()

    def checkpoint(self) -> None:
        """Block while paused; raise `Cancelled` if stopped. For jobs that end by unwinding."""
        self.wait_while_paused()
        if self._stop.is_set():
            raise Cancelled("Stopped on request.")
