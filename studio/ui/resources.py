"""Where the app's files (icons) are: package data in studio/ui/assets (the top-level resources/
of a checkout links there), so an installed wheel carries them too."""

from __future__ import annotations

from pathlib import Path


def resources_dir() -> Path:
    return Path(__file__).resolve().parent / "assets"


def icon_path(name: str = "transformer-studio.svg") -> Path:
    return resources_dir() / "icons" / name


def indicator_path(name: str) -> Path:
    """A check box or radio button drawn for the dark theme (see app.dark_indicators)."""
    return resources_dir() / "indicators" / f"{name}.svg"
