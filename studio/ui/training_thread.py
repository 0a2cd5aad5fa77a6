"""Following a training child process from the window: its events go into a deque the monitor drains.

The engine runs in a child process (see studio.core.training.child); this QThread only waits on its
pipe. No Qt signal per step: the monitor reads the deque on a ~10 Hz timer, and only the end of the
run is signalled.
"""

from __future__ import annotations

import collections
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QThread, Signal

from studio.core.training.child import TrainingProcess
from studio.core.training.messages import CancelledEarly, Done, EventMessage, Lost


class TrainingThread(QThread):
    finished_ok = Signal(object)  # TrainResult
    failed = Signal(str)
    stopped_early = Signal(str)  # stopped before training began: the sentence saying nothing was saved

    def __init__(self, config: Any = None, *, resume_dir: Path | None = None, overrides: dict | None = None,
                 out: Path | None = None) -> None:
        super().__init__()
        self.process = TrainingProcess(config, resume_dir=resume_dir, overrides=overrides, out=out)
        self.control = self.process.control
        self.events: collections.deque = collections.deque()
        self.run_dir: str | None = str(resume_dir) if resume_dir else None

    def run(self) -> None:  # runs in the new thread
        try:
            self.process.start()
        except OSError as exc:
            self.failed.emit(f"The training process could not start ({exc.strerror or exc}).")
            return
        while True:
            message = self.process.receive(0.2)
            if message is None:
                if not self.process.alive:
                    message = Lost(self.process.join())
                else:
                    continue
            if isinstance(message, EventMessage):
                self.events.append((time.monotonic(), message.event))
                continue
            self.process.join(30)
            if isinstance(message, Done):
                self.finished_ok.emit(message.result)
            elif isinstance(message, CancelledEarly):
                self.stopped_early.emit(message.message)
            elif isinstance(message, Lost):
                self.failed.emit(f"The training process ended unexpectedly (exit code {message.exit_code}). "
                                 "Checkpoints saved before that are kept; resume the run from Runs.")
            else:
                self.failed.emit(message.message)
            return
