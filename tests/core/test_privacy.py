"""Studio tells no server what a person trains: the Hub client's telemetry (which trl's trainers send at every
run) is off unless the person turns it on."""

from __future__ import annotations

import os
import subprocess
import sys


def _telemetry_off(env: dict[str, str]) -> str:
    code = "import studio, huggingface_hub.constants as c; print(c.HF_HUB_DISABLE_TELEMETRY)"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout


def test_telemetry_is_off_unless_the_person_turns_it_on():
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_DISABLE_TELEMETRY", "HF_HUB_OFFLINE")}
    assert _telemetry_off(env).strip() == "True"
    assert _telemetry_off({**env, "HF_HUB_DISABLE_TELEMETRY": "0"}).strip() == "False"
