"""Every registered task, end to end through the same doors: data named by its own column guesses,
training from its default preset, its headline metrics in the run store, evaluation, loading with the
right task, its command, and attention. A new task passes this or it is not done; so does a task an
installed package adds (tests.plugin's topic task, installed for these tests)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

from studio.cli import main
from studio.core.attention import extract
from studio.core.tasks import loaded as inference
from studio.core.tasks import outputs, registry
from tests import plugin
from tests.helpers import task_rows


def _registered() -> list[str]:
    with tempfile.TemporaryDirectory() as folder, plugin.installed(Path(folder)):
        return list(registry.tasks())


@pytest.mark.parametrize("name", _registered())
def test_every_task_trains_reports_evaluates_and_serves(name, topic_plugin, ws, tmp_path, capsys):
    task = registry.get(name)
    data = tmp_path / "data.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in task_rows(task)))
    run = tmp_path / "run"
    target = ["--target-len", "8"] if "target_len" in {s.name for s in task.settings} else []
    assert main(["train", "--task", task.name, "--data", str(data), "--out", str(run), "--vocab-size", "300",
                 "--seq-len", "16", *target, "--batch-size", "8", "--max-steps", "6", "--eval-every",
                 "3", "--save-every", "3", "--validation-fraction", "0.2", "--device", "cpu"]) == 0
    assert task.model_note and task.help and task.playground.input_title
    assert task.output in outputs.all_kinds()

    capsys.readouterr()
    assert main(["runs", "show", str(run), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["status"] == "completed" and info["task"] == task.name
    logged = {name for row in info["history"] for name, value in row.items() if value is not None}
    assert {m.name for m in task.headline} <= logged, "the monitor's headline curves need these"
    if task.writes_text:  # its answers to the sample prompts, at every evaluation
        assert {s["step"] for s in info["samples"]} == {3, 6}
        assert all(isinstance(s["output"], str) and s["prompt"] for s in info["samples"])
    else:
        assert info["samples"] == []

    assert main(["evaluate", "--model", str(run), "--data", str(data), "--json"]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert scores and all(isinstance(v, (int, float, dict)) for v in scores.values())

    command = task.command
    pair = [command.pair_flag, "alpha beta gamma"] if command.pair_flag else []
    assert main([command.name, "--model", str(run), command.text_flag, command.example, *pair, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)

    loaded = inference.load(str(run), attn_implementation="eager")
    assert loaded.task is task and loaded.settings["task"] == task.name
    att = extract.extract(loaded, "alpha beta gamma")
    assert all(weights.shape[0] >= 1 for weights, _, _ in att.views().values())
