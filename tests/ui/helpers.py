"""Helpers shared by the window tests."""

from __future__ import annotations

# A wait for an event, not a time limit: waitUntil returns as soon as the event comes, and a machine busy
# with other work may take minutes. The limit only stops a test that would otherwise hang.
TIMEOUT = 600_000


def load_model(qtbot, picker, source) -> None:
    """Pick `source` in a ModelPicker, press Load, and wait until it has loaded or said why not."""
    picker.choose(str(source))
    picker.load()
    qtbot.waitUntil(lambda: not picker.loading and (picker.model is not None or not picker.error.isHidden()),
                    timeout=TIMEOUT)


def listed(qtbot, *lists) -> None:
    """Wait until each list of runs (the Runs table, a model picker, the wizard's runs to train from) has
    read the workspace: they read it in the background."""
    qtbot.waitUntil(lambda: not any(each.listing for each in lists), timeout=TIMEOUT)
