"""Where the app's files (icons) are, in a source checkout and in an installed package."""

from __future__ import annotations

from pathlib import Path

_CANDIDATES = (Path(__file__).resolve().parents[2] / "resources", Path(__file__).resolve().parent / "resources")


def resources_dir() -> Path:
    for candidate in _CANDIDATES:
        if candidate.is_dir():
            return candidate
    return _CANDIDATES[0]


def icon_path(name: str = "transformer-studio.svg") -> Path:
    return resources_dir() / "icons" / name
