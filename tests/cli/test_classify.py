"""`studio classify` and `studio evaluate`: their JSON contracts, and agreement with plain transformers."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from transformers import pipeline

from studio.cli import main


def _json(capsys, argv: list[str]) -> dict:
    capsys.readouterr()
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_classify_json_contract_and_the_exported_pipeline_agree(cls_run, capsys):
    text = "open the folder and save the bytes"
    out = _json(capsys, ["classify", "--model", str(cls_run), "--text", text, "--json"])
    assert set(out) == {"label", "score", "scores"}
    assert set(out["scores"]) == {"files", "maths", "network"} and abs(sum(out["scores"].values()) - 1) < 1e-5
    assert out["score"] == max(out["scores"].values()) and out["scores"][out["label"]] == out["score"]
    plain = pipeline("text-classification", model=str(cls_run / "model"), device="cpu")(text)[0]
    assert plain["label"] == out["label"] and plain["score"] == pytest.approx(out["score"], abs=1e-5)


def test_classify_prints_every_label_and_classifies_a_file_line_by_line(cls_run, tmp_path, capsys):
    capsys.readouterr()
    assert main(["classify", "--model", str(cls_run), "--text", "sum of squares"]) == 0
    shown = capsys.readouterr().out
    assert all(name in shown for name in ("files", "maths", "network")) and "%" in shown
    lines = tmp_path / "lines.txt"
    lines.write_text("send a request to the server\n\nopen the file\nsquare root of a number\n")
    capsys.readouterr()
    assert main(["classify", "--model", str(cls_run), "--file", str(lines), "--json", "--batch-size", "2"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["text"] for r in rows] == ["send a request to the server", "open the file", "square root of a number"]
    assert all(set(r) == {"text", "label", "score", "scores"} for r in rows)


def test_evaluate_a_classifier(cls_run, labelled_csv, capsys):
    scores = _json(capsys, ["evaluate", "--model", str(cls_run), "--data", str(labelled_csv), "--json"])
    assert set(scores) == {"accuracy", "f1", "per_class", "confusion_matrix", "rows"}
    matrix = np.array(scores["confusion_matrix"]["matrix"])
    assert scores["confusion_matrix"]["labels"] == ["files", "maths", "network"]
    assert matrix.sum() == scores["rows"] == 300 and np.trace(matrix) / 300 == pytest.approx(scores["accuracy"])
    for name, row in zip(scores["confusion_matrix"]["labels"], matrix):
        assert scores["per_class"][name]["support"] == row.sum()  # rows are the true labels
        assert set(scores["per_class"][name]) == {"precision", "recall", "f1", "support"}
    assert scores["accuracy"] >= 0.9


def test_evaluate_on_the_runs_own_data_says_so_and_scores_its_held_out_rows(cls_run, labelled_csv, tmp_path,
                                                                          capsys):
    from studio.core.runs import reader

    capsys.readouterr()
    assert main(["evaluate", "--model", str(cls_run), "--data", str(labelled_csv), "--json"]) == 0
    assert "these are the rows the model trained on" in capsys.readouterr().err
    held = _json(capsys, ["evaluate", "--model", str(cls_run), "--data", str(labelled_csv), "--split",
                          "validation", "--json"])
    last = [row for row in reader.read(cls_run).history if row.get("eval_accuracy") is not None][-1]
    assert held["rows"] == 60 and held["accuracy"] == pytest.approx(last["eval_accuracy"])  # the run's own figure
    import shutil

    shutil.copytree(cls_run / "model", tmp_path / "loose")  # a model without its run
    assert main(["evaluate", "--model", str(tmp_path / "loose"), "--data", str(labelled_csv), "--split",
                 "validation"]) == 2
    assert "has no run" in capsys.readouterr().err


def test_evaluate_a_language_model_and_a_summarizer(lm_run, lm_text, sum_run, pairs_jsonl, capsys):
    lm = _json(capsys, ["evaluate", "--model", str(lm_run), "--data", str(lm_text), "--json"])
    assert {"loss", "perplexity"} <= set(lm) and lm["perplexity"] == pytest.approx(np.exp(lm["loss"]))
    summary = _json(capsys, ["evaluate", "--model", str(sum_run), "--data", str(pairs_jsonl), "--json"])
    assert {"rouge1", "rouge2", "rougeL"} <= set(summary) and all(0 <= summary[k] <= 1 for k in ("rouge1", "rougeL"))


def test_evaluate_reads_the_tasks_column_flags(cls_run, tmp_path, capsys):
    data = tmp_path / "renamed.csv"
    with data.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["sentence_a", "sentence_b", "topic"])
        writer.writerows([["open the file", "unused", "files"], ["sum the numbers", "unused", "maths"]] * 3)
    scores = _json(capsys, ["evaluate", "--model", str(cls_run), "--data", str(data), "--text-column", "sentence_a",
                            "--label-column", "topic", "--json"])
    assert scores["rows"] == 6
