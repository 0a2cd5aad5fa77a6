"""Talking to the Hugging Face Hub only when it can answer.

Offline, `from_pretrained` retries for about half a minute before it fails; a person who typed a hub
id deserves the answer "no network" in a few seconds. One short TCP probe of the hub's endpoint decides
whether loads may go online or must use the local cache only.
"""

from __future__ import annotations

import os
import socket
import time
from urllib.parse import urlparse

_PROBE_TIMEOUT_S = 3.0
_REMEMBER_S = 60.0
_last: tuple[float, bool] | None = None


def reachable() -> bool:
    global _last
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes"):
        return False
    if _last is not None and time.monotonic() - _last[0] < _REMEMBER_S:
        return _last[1]
    from huggingface_hub import constants

    url = urlparse(constants.ENDPOINT)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname, port), timeout=_PROBE_TIMEOUT_S):
            ok = True
    except OSError:
        ok = False
    _last = (time.monotonic(), ok)
    return ok


def load_kwargs() -> dict[str, bool]:
    """Extra `from_pretrained` arguments for a hub id: cache only when the hub cannot be reached."""
    return {} if reachable() else {"local_files_only": True}
