"""The busy-machine sentence a timing carries: said for an oversubscribed CPU only."""

from __future__ import annotations

import os

from studio.core.system import load


def test_a_busy_cpu_is_said_and_an_idle_one_or_a_gpu_is_not(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(os, "getloadavg", lambda: (6.4, 5.0, 4.0))
    assert load.busy_note("cpu") == ("This machine is busy (a load of 6.4 on 2 cores), so the steps were timed "
                                     "slower than they run on an idle machine; closing other work buys more steps.")
    assert load.busy_note("cuda:0") == ""
    monkeypatch.setattr(os, "getloadavg", lambda: (2.2, 2.0, 2.0))
    assert load.busy_note("cpu") == ""
