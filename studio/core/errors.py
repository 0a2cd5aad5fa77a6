"""Errors a person can cause, each carrying one sentence that says what is wrong and what to do.

The CLI prints `str(error)` and exits 2; the UI shows it next to the control that caused it.
"""


class StudioError(Exception):
    """Base for every error whose message is meant for a person, not a traceback."""


class DataError(StudioError):
    """A data file or folder cannot be used as it is."""


class TokenizerError(StudioError):
    """A tokenizer cannot be trained or loaded."""


class ModelError(StudioError):
    """A model cannot be built or loaded."""


class ConfigError(StudioError):
    """A setting is impossible or contradicts another one."""


class HubError(StudioError):
    """The Hugging Face Hub could not be reached, or refused what was asked of it."""


class RunError(StudioError):
    """A run folder is missing, damaged or cannot be resumed."""


class TrainingError(StudioError):
    """Training could not go on (diverged, out of memory, bad data found late)."""


class Cancelled(StudioError):
    """The person asked a long-running job to stop before it finished."""


def first_line(exc: BaseException) -> str:
    """The first line of a library's error message, short enough to quote in one sentence."""
    lines = str(exc).strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:200]
