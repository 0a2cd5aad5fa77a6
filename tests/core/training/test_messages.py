"""The messages between a training process and its follower: every way a job ends has its own message,
and they survive the pickling both channels use."""

from __future__ import annotations

import pickle

from studio.core.control import Control
from studio.core.errors import Cancelled, ConfigError
from studio.core.training.events import Metrics
from studio.core.training.messages import CancelledEarly, Command, Done, EventMessage, Failed, outcome


def _raise(exc: BaseException):
    def work():
        raise exc
    return work


def test_each_ending_has_its_message():
    assert outcome(lambda: "result") == Done("result")
    assert isinstance(outcome(_raise(Cancelled("stop"))), CancelledEarly)
    assert outcome(_raise(ConfigError("--seq-len 0 is impossible."))) == Failed("--seq-len 0 is impossible.")
    crashed = outcome(_raise(ValueError("bad shape\nmore lines")))
    assert isinstance(crashed, Failed) and "ValueError: bad shape" in crashed.message and "more" not in crashed.message
    assert "error.log" in crashed.message


def test_commands_steer_a_control():
    control = Control()
    Command.PAUSE.apply(control)
    assert control.paused
    Command.RESUME.apply(control)
    Command.SAVE.apply(control)
    assert not control.paused and control.take_save_request()
    Command.STOP.apply(control)
    assert control.stopped


def test_messages_survive_pickling():
    for message in (EventMessage(Metrics(3, 10, {"loss": 1.5})), Done({"status": "completed"}), Failed("no"),
                    Command.STOP):
        assert pickle.loads(pickle.dumps(message)) == message
