"""Dark mode: check boxes and radio buttons must stand out from the window (Fusion outlines them a shade
darker than the window, which on a dark window hides them)."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QRadioButton

from studio.ui.app import apply_palette


def _brightest_in_indicator(widget) -> int:
    widget.resize(120, 24)
    image = widget.grab().toImage()
    return max(image.pixelColor(x, y).lightness() for x in range(18) for y in range(image.height()))


def test_unchecked_boxes_and_radios_are_visible_in_dark_mode(qapp, monkeypatch):
    monkeypatch.setenv("STUDIO_THEME", "dark")
    apply_palette(qapp)
    try:
        window = qapp.palette().window().color().lightness()
        for widget in (QCheckBox(""), QRadioButton("")):
            assert _brightest_in_indicator(widget) - window > 80
    finally:
        monkeypatch.setenv("STUDIO_THEME", "light")
        apply_palette(qapp)
    assert qapp.styleSheet() == ""  # the light theme keeps Fusion's own
