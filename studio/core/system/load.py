"""Whether other programs are keeping this machine's processors busy, so a timing taken now is slower than
the same work on an idle machine. People read a plan of "42 steps in 15 minutes" as the app's fault unless
it says that the machine was busy when it timed."""

from __future__ import annotations

import os

BUSY_SHARE = 1.5  # a load average above this many runnable tasks per core leaves each task well under a core


def busy_note(device: str) -> str:
    """A sentence for a CPU device whose cores are oversubscribed, else "". The one-minute load average
    lags, so the few seconds a timing takes add little of Studio's own load to it."""
    if not device.startswith("cpu") or not hasattr(os, "getloadavg"):  # Windows has no load average
        return ""
    load, cores = os.getloadavg()[0], os.cpu_count() or 1
    if load <= cores * BUSY_SHARE:
        return ""
    return (f"This machine is busy (a load of {load:.1f} on {cores} cores), so the steps were timed slower than "
            "they run on an idle machine; closing other work buys more steps.")
