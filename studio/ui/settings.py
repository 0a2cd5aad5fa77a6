"""Persistent choices (window layout, recent files, last options) in QSettings."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSettings

MAX_RECENT = 8


def settings() -> QSettings:
    return QSettings()


def recent_files() -> list[str]:
    value = settings().value("data/recent", [])
    if isinstance(value, str):  # QSettings hands back one string when one was stored
        return [value]
    return [str(v) for v in (value or [])]


def add_recent(path: str) -> list[str]:
    recent = [path] + [p for p in recent_files() if p != path]
    settings().setValue("data/recent", recent[:MAX_RECENT])
    return recent[:MAX_RECENT]


def value(key: str, default: Any = None, kind: type | None = None) -> Any:
    if kind is None:
        return settings().value(key, default)
    return settings().value(key, default, type=kind)


def set_value(key: str, data: Any) -> None:
    settings().setValue(key, data)
