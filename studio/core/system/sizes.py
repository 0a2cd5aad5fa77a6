"""Byte counts, parameter counts and durations as a person reads them, in one style across the window and the
command line."""

from __future__ import annotations

import math


def text(size: float) -> str:
    """'312 bytes', '812 KB', '14.2 MB', '3.41 GB' (powers of 1024, as file managers on most desktops count)."""
    if size >= 2**30:
        return f"{size / 2**30:,.2f} GB"
    if size >= 2**20:
        return f"{size / 2**20:,.1f} MB"
    if size >= 2**10:
        return f"{size / 2**10:,.0f} KB"
    return f"{int(size)} bytes"


def parameters(count: int | None) -> str:
    """'22 M', '1.7 B'; empty when the count is not known."""
    if not count:
        return ""
    return f"{count / 1e9:.1f} B" if count >= 1e9 else f"{count / 1e6:.0f} M"


def duration(seconds: float | None) -> str:
    """"42 s", "3 min 05 s", "2 h 07 min"; "–" when unknown."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return "–"
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    if seconds >= 60:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds} s"
