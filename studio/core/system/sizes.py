"""Byte counts as a person reads them, in one style across the window and the command line."""

from __future__ import annotations


def text(size: float) -> str:
    """'312 bytes', '812 KB', '14.2 MB', '3.41 GB' (powers of 1024, as file managers on most desktops count)."""
    if size >= 2**30:
        return f"{size / 2**30:,.2f} GB"
    if size >= 2**20:
        return f"{size / 2**20:,.1f} MB"
    if size >= 2**10:
        return f"{size / 2**10:,.0f} KB"
    return f"{int(size)} bytes"
