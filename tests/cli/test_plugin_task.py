"""A task from another package (tests.plugin's topic task, declared by an entry point on a temporary
path) is a task like the built-in ones on the command line: its flag, training, evaluation, its command."""

from __future__ import annotations

import json

from studio.cli import main
from studio.core.tasks import loaded as inference
from studio.core.tasks import registry


def test_train_help_shows_the_plug_in_task_and_its_setting(topic_plugin, capsys):
    assert main(["train", "--task", "topic", "--help"]) == 0
    shown = capsys.readouterr().out
    assert "--topic-words N" in shown and "read only the first N words" in shown
    assert "topic: topic classification" in shown


def test_without_the_package_the_task_is_unknown(capsys):
    assert "topic" not in registry.tasks()
    assert main(["train", "--task", "topic", "--max-steps", "1"]) == 2
    assert "Unknown task 'topic'" in capsys.readouterr().err


def test_a_plug_in_run_trains_evaluates_and_answers(topic_plugin, topic_run, labelled_csv, capsys):
    capsys.readouterr()
    assert main(["runs", "show", str(topic_run), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["status"] == "completed" and info["task"] == "topic"
    assert any(row.get("eval_accuracy") is not None for row in info["history"])

    assert main(["evaluate", "--model", str(topic_run), "--data", str(labelled_csv), "--json"]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert set(scores["per_class"]) == {"files", "maths", "network"} and scores["rows"] == 300

    assert main(["topic", "--model", str(topic_run), "--text", "open the file and read its bytes", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert set(answer) == {"label", "score", "scores"} and answer["label"] in answer["scores"]

    loaded = inference.load(str(topic_run))
    assert loaded.task is registry.get("topic") and loaded.settings["topic_words"] == 4


def test_the_plug_in_setting_is_checked_like_any_other(topic_plugin, tmp_path, capsys):
    assert main(["train", "--task", "topic", "--topic-words", "-3", "--max-steps", "1", "--out",
                 str(tmp_path / "run")]) == 2
    assert "--topic-words -3 is impossible" in capsys.readouterr().err
