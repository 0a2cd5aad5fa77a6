"""The one place where an exception becomes a sentence for the person (and a traceback for the log)."""

from __future__ import annotations

import logging

from studio.core.errors import StudioError, first_line

log = logging.getLogger("studio.ui")


def describe(exc: BaseException) -> str:
    if isinstance(exc, StudioError):
        return str(exc)
    log.error("Unexpected error", exc_info=(type(exc), exc, exc.__traceback__))
    return f"Something went wrong ({type(exc).__name__}: {first_line(exc)}). The details are in the log."
