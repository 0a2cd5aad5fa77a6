"""A run survives being killed at any moment, Ctrl-C saves a checkpoint, and --resume continues it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import transformers

from studio.cli import main
from studio.core.runs import layout
from tests.helpers import TINY_LM, train_cli

LONG = TINY_LM[:6] + ["--max-steps", "100000", "--eval-every", "1000", "--save-every", "4", "--device", "cpu"]


def _start(ws: Path, out: Path, data: Path) -> subprocess.Popen:
    env = dict(os.environ, STUDIO_WORKSPACE=str(ws), HF_HUB_OFFLINE="1")
    return subprocess.Popen([sys.executable, "-m", "studio", "train", "--data", str(data), "--out", str(out), *LONG],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_checkpoint(proc: subprocess.Popen, out: Path, at_least: int, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        latest = layout.latest_checkpoint(out)
        if latest and latest[0] >= at_least:
            return
        if proc.poll() is not None:
            pytest.fail(f"training ended early: {proc.stderr.read()[-2000:]}")
        time.sleep(0.05)
    proc.kill()
    pytest.fail("no checkpoint appeared in time")


def _info(capsys: pytest.CaptureFixture, out: Path) -> dict:
    capsys.readouterr()
    assert main(["runs", "show", str(out), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.slow
def test_kill_then_resume(ws, lm_text, tmp_path, capsys):
    out = tmp_path / "killed"
    proc = _start(ws, out, lm_text)
    _wait_for_checkpoint(proc, out, 8)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=600)
    info = _info(capsys, out)
    assert info["status"] == "stopped"  # a dead process is not reported as still running
    last = info["checkpoints"][-1]["step"]
    assert all((Path(c["path"]) / "model.safetensors").is_file() for c in info["checkpoints"])
    assert main(["train", "--resume", str(out), "--max-steps", str(last + 4)]) == 0
    info = _info(capsys, out)
    assert info["status"] == "completed" and info["global_step"] == last + 4
    steps = [r["step"] for r in info["history"] if "train_loss" in r]
    assert steps == sorted(set(steps))  # replayed steps were not logged twice


@pytest.mark.slow
def test_ctrl_c_saves_a_checkpoint_and_exits_130(ws, lm_text, tmp_path, capsys):
    out = tmp_path / "interrupted"
    proc = _start(ws, out, lm_text)
    _wait_for_checkpoint(proc, out, 4)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 130, err[-2000:]
    assert "--resume" in err
    info = _info(capsys, out)
    assert info["status"] == "stopped"
    assert info["checkpoints"][-1]["step"] == info["global_step"]  # saved exactly where it stopped


def test_a_crash_while_writing_a_checkpoint_leaves_the_previous_one(ws, lm_text, tmp_path, monkeypatch, capsys):
    real = transformers.Trainer._save_checkpoint
    calls = {"n": 0}

    def crash_on_second(self, model, trial):
        calls["n"] += 1
        if calls["n"] == 2:
            self.save_model(os.path.join(self._get_output_dir(trial), f"checkpoint-{self.state.global_step}"),
                            _internal_call=True)
            raise RuntimeError("simulated crash halfway through a checkpoint")
        return real(self, model, trial)

    monkeypatch.setattr(transformers.Trainer, "_save_checkpoint", crash_on_second)
    out = tmp_path / "crashed"
    args = TINY_LM[:6] + ["--max-steps", "12", "--eval-every", "100", "--save-every", "4", "--device", "cpu"]
    with pytest.raises(RuntimeError, match="simulated"):
        train_cli(ws, out, lm_text, args)
    monkeypatch.undo()
    assert [s for s, _ in layout.checkpoints(out)] == [4]  # the half-written step 8 never took the name
    info = _info(capsys, out)
    assert info["status"] == "failed" and "simulated" in info["error"]
    assert (out / "error.log").is_file()
    assert main(["train", "--resume", str(out)]) == 0
    assert _info(capsys, out)["global_step"] == 12
