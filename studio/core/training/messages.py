"""What passes between a training process and the process following it: the window's child process
(child.py) and the relay of a run of several processes (launch.py, worker.py) speak the same messages.

Commands go down, events and one outcome come up. Both ends are Studio of the same version, pickling
over a pipe or an authenticated local socket, so plain frozen dataclasses are the whole protocol.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from studio.core.errors import Cancelled, StudioError, first_line
from studio.core.training.events import Event


class Command(StrEnum):
    """What the person asks of a training that runs elsewhere; each value is the `Control` method."""

    STOP = "stop"
    PAUSE = "pause"
    RESUME = "resume"
    SAVE = "request_save"

    def apply(self, control: Any) -> None:
        getattr(control, self.value)()


@dataclass(frozen=True)
class EventMessage:
    """One of the engine's events, as it happened."""

    event: Event


@dataclass(frozen=True)
class Done:
    """Training ended (completed, stopped with a checkpoint, or early): the engine's TrainResult."""

    result: Any


@dataclass(frozen=True)
class Failed:
    """Training could not go on; the sentence for the person."""

    message: str


@dataclass(frozen=True)
class CancelledEarly:
    """Stopped before the first step: nothing was saved."""

    message: str


STOPPED_EARLY = "Stopped before training began; nothing was saved."


@dataclass(frozen=True)
class Lost:
    """The training process ended without an outcome (killed, crashed); its exit code if known."""

    exit_code: int | None


Outcome = Done | Failed | CancelledEarly | Lost
Message = EventMessage | Outcome


def outcome(work: Callable[[], Any]) -> Outcome:
    """Run a training job and say how it ended, never raising: what goes back to the process following it."""
    try:
        return Done(work())
    except Cancelled:
        return CancelledEarly(STOPPED_EARLY)
    except StudioError as exc:
        return Failed(str(exc))
    except BaseException as exc:  # noqa: BLE001 - every failure must reach the person as a sentence
        return Failed(f"Something went wrong ({type(exc).__name__}: {first_line(exc)}). The details are in the run "
                      "folder's error.log.")
