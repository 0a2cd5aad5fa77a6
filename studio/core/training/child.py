"""Training in a child process, steered and followed from the parent (the window).

Why a process and not a thread: the same run trained 9-15% slower in a Python thread of the window
than in the main thread of the command line (measured on 2 cores, also with a plain threading.Thread
and no window), and a crash in native code would take the window with it. The child trains in its
own main thread, exactly like `studio train`.

Two pipes: commands go down (stop, pause, resume, save), events and the result come up. When the
parent dies its end of the command pipe closes, and the child stops with a checkpoint.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from studio.core.training.messages import STOPPED_EARLY, CancelledEarly, Command, EventMessage, Lost, Message, outcome


class RemoteControl:
    """The parent's side of the child's `Control`: the same methods, sent down a pipe."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection
        self._lock = threading.Lock()

    def _send(self, command: Command) -> None:
        with self._lock:
            try:
                self._connection.send(command)
            except (OSError, ValueError):
                pass  # the child has ended; there is nothing left to steer

    def stop(self) -> None:
        self._send(Command.STOP)

    def pause(self) -> None:
        self._send(Command.PAUSE)

    def resume(self) -> None:
        self._send(Command.RESUME)

    def request_save(self) -> None:
        self._send(Command.SAVE)


class TrainingProcess:
    """`engine.train(config)` or `engine.resume(run_dir)` in a spawned child process.

    Read what it reports with `receive(timeout)`: EventMessages, then one outcome (messages.py); None
    when nothing came within the timeout.
    """

    def __init__(self, config: Any = None, *, resume_dir: Path | None = None, overrides: dict | None = None,
                 out: Path | None = None) -> None:
        context = multiprocessing.get_context("spawn")  # fork would copy the window's threads and Qt state
        command_reader, command_writer = context.Pipe(duplex=False)
        self._events, event_writer = context.Pipe(duplex=False)
        self.control = RemoteControl(command_writer)
        self._process = context.Process(target=_child, name="studio-training", daemon=False,
                                        args=(config, resume_dir, overrides or {}, out, command_reader, event_writer))
        self._child_ends = (command_reader, event_writer)

    def start(self) -> None:
        self._process.start()
        for end in self._child_ends:
            end.close()  # only the child holds these now, so its death closes them

    def receive(self, timeout: float) -> Message | None:
        try:
            if self._events.poll(timeout):
                return self._events.recv()
        except (EOFError, OSError):
            return Lost(self._process.exitcode)
        return None

    @property
    def alive(self) -> bool:
        return self._process.is_alive()

    def join(self, timeout: float | None = None) -> int | None:
        self._process.join(timeout)
        return self._process.exitcode


def _child(config: Any, resume_dir: Path | None, overrides: dict, out: Path | None, commands: Any,
           events: Any) -> None:
    from studio.core.control import Control
    from studio.core.training import engine

    control = Control()
    sending = threading.Lock()  # a message is never cut by the early exit below

    def send(message: Any) -> None:
        with sending:
            events.send(message)

    def stop_at_once() -> None:
        """A stop while the run still prepares ends the process now: nothing of the run is written yet, and a
        model or data set being loaded would hold the stop off for as long as that takes."""
        send(CancelledEarly(STOPPED_EARLY))
        events.close()
        os._exit(0)

    obey(commands.recv, control, on_stop=lambda: control.if_nothing_to_lose(stop_at_once))

    def report(event: Any) -> None:
        send(EventMessage(event))

    def work() -> Any:
        if resume_dir is not None:
            return engine.resume(resume_dir, overrides, listeners=[report], control=control)
        return engine.train(config, out=out, listeners=[report], control=control)

    send(outcome(work))


def obey(receive: Callable[[], Any], control: Any, on_stop: Callable[[], None] | None = None) -> None:
    """Apply the commands `receive` returns to `control`, on a thread of their own; when the sender is
    gone (the window closed, the launching process died) stop with a checkpoint. `on_stop` is told of a
    stop first."""

    def follow() -> None:
        while True:
            try:
                command = receive()
            except (EOFError, OSError):
                control.stop()
                return
            if command is Command.STOP and on_stop is not None:
                on_stop()
            if isinstance(command, Command):
                command.apply(control)

    threading.Thread(target=follow, name="studio-commands", daemon=True).start()

