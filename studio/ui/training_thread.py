"""Training in a QThread: the engine runs there, its events go into a deque the monitor drains.

No Qt signal per step: the listener only appends (thread-safe in CPython) and the monitor reads the
deque on a ~10 Hz timer. Only the end of the run is signalled.
"""

from __future__ import annotations

import collections
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QThread, Signal

from studio.core.control import Control
from studio.core.errors import Cancelled
from studio.ui.errors import describe


class TrainingThread(QThread):
    finished_ok = Signal(object)  # TrainResult
    failed = Signal(str)

    def __init__(self, config: Any = None, *, resume_dir: Path | None = None, overrides: dict | None = None,
                 out: Path | None = None) -> None:
        super().__init__()
        self.config = config
        self.resume_dir = resume_dir
        self.overrides = overrides or {}
        self.out = out
        self.control = Control()
        self.events: collections.deque = collections.deque()
        self.run_dir: str | None = str(resume_dir) if resume_dir else None

    def _listen(self, event: Any) -> None:
        self.events.append((time.monotonic(), event))

    def run(self) -> None:  # runs in the new thread
        from studio.core.warm import warm_up

        try:
            warm_up()
            from studio.core.training import engine

            if self.resume_dir is not None:
                result = engine.resume(self.resume_dir, self.overrides, listeners=[self._listen],
                                       control=self.control)
            else:
                result = engine.train(self.config, out=self.out, listeners=[self._listen], control=self.control)
        except Cancelled:
            self.failed.emit("Stopped before training began; nothing was saved.")
        except BaseException as exc:  # noqa: BLE001 - every failure must reach the panel, never kill the app
            self.failed.emit(describe(exc))
        else:
            self.finished_ok.emit(result)
