"""Silencing transformers' own progress bars and notices while Studio reports through its own channels."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

# transformers' verbosity is process-wide; with two loads at once (side by side in the window) the
# first to finish must not switch the bars back on under the second, so the silence is counted.
_LOCK = threading.Lock()
_DEPTH = 0
_BEFORE: tuple[int, bool] = (0, False)


@contextlib.contextmanager
def quiet_transformers() -> Iterator[None]:
    global _DEPTH, _BEFORE
    from transformers.utils import logging

    with _LOCK:
        if _DEPTH == 0:
            _BEFORE = (logging.get_verbosity(), logging.is_progress_bar_enabled())
            logging.set_verbosity_error()
            logging.disable_progress_bar()
        _DEPTH += 1
    try:
        yield
    finally:
        with _LOCK:
            _DEPTH -= 1
            if _DEPTH == 0:
                logging.set_verbosity(_BEFORE[0])
                if _BEFORE[1]:
                    logging.enable_progress_bar()
