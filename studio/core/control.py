"""A thread-safe control object that long-running core functions check at step boundaries.

The UI (or the CLI's Ctrl-C handler) calls `stop()`, `pause()`, `resume()` or `request_save()` from
any thread; the engine calls `checkpoint()` between steps. Events rather than flags polled with sleep,
so a paused job wakes the moment it is resumed or stopped.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from studio.core.errors import Cancelled


class Control:
    def __init__(self) -> None:
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._save = threading.Event()
        self._wake = threading.Condition()
        self._nothing_to_lose = False
        self._losing = threading.Lock()

    def stop(self) -> None:
        self._stop.set()
        self._running.set()  # wake a paused job so it can see the stop
        with self._wake:
            self._wake.notify_all()

    def pause(self) -> None:
        if not self._stop.is_set():
            self._running.clear()

    def resume(self) -> None:
        self._running.set()
        with self._wake:
            self._wake.notify_all()

    def request_save(self) -> None:
        self._save.set()
        with self._wake:
            self._wake.notify_all()

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

    def wait_while_paused_or_until_save(self, timeout: float | None = None) -> None:
        """Like `wait_while_paused`, but also returns when a save is requested, so a paused run can
        write a checkpoint (a person pauses, saves, and tries the model in the Playground); or after
        `timeout` seconds."""
        with self._wake:
            self._wake.wait_for(lambda: self._running.is_set() or self._save.is_set(), timeout)

    @contextmanager
    def nothing_to_lose(self) -> Iterator[None]:
        """Mark work that writes nothing a person keeps (reading the data, loading the model): an owner may end
        the process during it rather than wait for the next check, which a model load can hold off for long."""
        with self._losing:
            self._nothing_to_lose = True
        try:
            yield
        finally:
            with self._losing:  # not while `if_nothing_to_lose` is acting on it
                self._nothing_to_lose = False

    def if_nothing_to_lose(self, act: Callable[[], None]) -> None:
        """Call `act` (which may end the process) only inside `nothing_to_lose`, which cannot end meanwhile."""
        with self._losing:
            if self._nothing_to_lose:
                act()

    def checkpoint(self) -> None:
        """Block while paused; raise `Cancelled` if stopped. For jobs that end by unwinding."""
        self.wait_while_paused()
        if self._stop.is_set():
            raise Cancelled("Stopped on request.")
