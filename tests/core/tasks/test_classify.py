"""Text classification: labels from the data become the model's head and names; every evaluation is
reported with its confusion matrix and mistakes; GPT-2 classifies too, and a language model's run
fine-tunes into a classifier with a head that says it is new."""

from __future__ import annotations

import json

import numpy as np

from studio.core.runs import reader
from studio.core.tasks.classify import report
from studio.core.tasks.loaded import load
from tests.helpers import TINY_CLS, train_cli


def test_report_counts_like_scikit_learn_and_sums_to_the_rows():
    truth, predicted = np.array([0, 0, 1, 1, 2, 2]), np.array([0, 1, 1, 1, 2, 0])
    out = report(truth, predicted, ["a", "b", "c"])
    assert out["accuracy"] == 4 / 6
    assert out["confusion_matrix"] == {"labels": ["a", "b", "c"], "matrix": [[1, 1, 0], [0, 2, 0], [1, 0, 1]]}
    assert out["per_class"]["b"] == {"precision": 2 / 3, "recall": 1.0, "f1": 0.8, "support": 2}
    assert abs(out["f1"] - np.mean([0.5, 0.8, 2 / 3])) < 1e-9


def test_a_run_stores_labels_metrics_and_its_report(cls_run):
    info = reader.read(cls_run)
    stats = json.loads(json.dumps(info.as_dict()))  # all plain data
    assert stats["status"] == "completed"
    evaluated = [row for row in info.history if row.get("eval_accuracy") is not None]
    assert len(evaluated) == 2 and all(0 <= row["eval_f1"] <= 1 for row in evaluated)
    body = info.report
    assert body["step"] == 40 and set(body["per_class"]) == {"files", "maths", "network"}
    matrix = np.array(body["confusion_matrix"]["matrix"])
    assert matrix.sum() == sum(s["support"] for s in body["per_class"].values()) == 60  # 20% of 300, stratified
    assert np.trace(matrix) / matrix.sum() == evaluated[-1]["eval_accuracy"]
    assert len(body["misclassified"]) == matrix.sum() - np.trace(matrix)
    confidences = [m["confidence"] for m in body["misclassified"]]
    assert confidences == sorted(confidences, reverse=True)
    loaded = load(str(cls_run))
    assert loaded.labels == ["files", "maths", "network"] and loaded.model.config.label2id["maths"] == 1


def test_the_default_run_learns_the_topics(cls_run):
    assert reader.read(cls_run).last["eval_accuracy"] >= 0.9  # three topics with words of their own


def test_gpt_classifier_and_fine_tuning_a_language_model_into_one(ws, labelled_csv, lm_run, tmp_path, capsys):
    gpt = tmp_path / "gpt"
    args = [a if a != "bert-tiny" else "gpt-tiny" for a in TINY_CLS]
    args[args.index("--max-steps") + 1] = "4"
    assert train_cli(ws, gpt, labelled_csv, args) == 0
    assert load(str(gpt)).model.config.pad_token_id is not None
    capsys.readouterr()
    tuned = tmp_path / "tuned"
    args = [a if a != "bert-tiny" else str(lm_run) for a in TINY_CLS if a not in ("--vocab-size", "400")]
    args[args.index("--max-steps") + 1] = "2"
    assert train_cli(ws, tuned, labelled_csv, [*args, "--new-words", "off"]) == 0  # the tokenizer as the LM's
    assert "classification head is new" in capsys.readouterr().err
    loaded = load(str(tuned))
    assert type(loaded.model).__name__ == "GPT2ForSequenceClassification"
    assert loaded.tokenizer.backend_tokenizer.to_str() == load(str(lm_run)).tokenizer.backend_tokenizer.to_str()


def test_a_classifier_resumes_with_its_labels_and_reports(ws, cls_run, tmp_path):
    import shutil

    from studio.cli import main

    copy = tmp_path / "resumed"
    shutil.copytree(cls_run, copy)
    assert main(["--workspace", str(ws), "train", "--resume", str(copy), "--max-steps", "60"]) == 0
    info = reader.read(copy)
    assert info.status == "completed" and info.global_step == 60 and info.report["step"] == 60
    assert [r["step"] for r in info.history if r.get("eval_accuracy") is not None] == [20, 40, 60]
    assert load(str(copy)).labels == ["files", "maths", "network"]


def test_a_masked_lm_run_whose_cls_is_flat_is_read_through_a_mean_layer(ws, labelled_csv, mlm_run, tmp_path, capsys,
                                                                         monkeypatch):
    """The flatness is measured on the data; here the threshold is moved so that the tiny run counts as flat and
    as not flat. The decision is recorded, so a resumed run builds the same model without measuring again."""
    from transformers import pipeline

    from studio.cli import main
    from studio.core.modeling import pooling
    from studio.core.runs import layout

    layers = load(str(mlm_run)).model.config.num_hidden_layers
    args = [a if a != "bert-tiny" else str(mlm_run) for a in TINY_CLS if a not in ("--vocab-size", "400")]
    args[args.index("--max-steps") + 1] = "2"
    monkeypatch.setattr(pooling, "FLAT", 10.0)
    flat = tmp_path / "flat"
    capsys.readouterr()
    assert train_cli(ws, flat, labelled_csv, args) == 0
    err = capsys.readouterr().err
    assert "[CLS] output varies" in err and "reads the mean of the tokens instead" in err
    assert layout.read_config(flat)["pooling"] == "mean"
    assert load(str(flat)).model.config.num_hidden_layers == layers + 1
    assert pipeline("text-classification", model=str(flat / "model"))("open the file")[0]["label"] in (
        "files", "maths", "network")
    monkeypatch.setattr(pooling, "FLAT", 0.0)  # measured again, it would not be flat now: the record decides
    assert main(["--workspace", str(ws), "train", "--resume", str(flat), "--max-steps", "4"]) == 0
    assert reader.read(flat).global_step == 4 and load(str(flat)).model.config.num_hidden_layers == layers + 1
    plain = tmp_path / "plain"
    assert train_cli(ws, plain, labelled_csv, args) == 0
    assert layout.read_config(plain)["pooling"] == "head"
    assert load(str(plain)).model.config.num_hidden_layers == layers


def test_the_wizard_is_told_when_an_encoder_never_trained_its_cls(mlm_run, cls_run):
    from studio.core.tasks import registry

    task = registry.get("classify")
    assert "pretrained by masked LM alone" in task.start_note(str(mlm_run))
    assert task.start_note(str(cls_run)) == "" and task.start_note("bert-tiny") == ""


def test_a_run_saved_before_pooling_existed_resumes_as_it_trained(ws, labelled_csv, mlm_run, tmp_path, monkeypatch):
    from studio.cli import main
    from studio.core.modeling import pooling

    layers = load(str(mlm_run)).model.config.num_hidden_layers
    args = [a if a != "bert-tiny" else str(mlm_run) for a in TINY_CLS if a not in ("--vocab-size", "400")]
    args[args.index("--max-steps") + 1] = "2"
    monkeypatch.setattr(pooling, "FLAT", 0.0)
    old = tmp_path / "old"
    assert train_cli(ws, old, labelled_csv, args) == 0
    config = old / "config.toml"
    config.write_text("".join(line + "\n" for line in config.read_text().splitlines()
                              if not line.startswith("pooling")))  # as an earlier Studio wrote it
    monkeypatch.setattr(pooling, "FLAT", 10.0)  # measured now, the encoder would get a mean layer
    assert main(["--workspace", str(ws), "train", "--resume", str(old), "--max-steps", "4"]) == 0
    assert reader.read(old).global_step == 4 and load(str(old)).model.config.num_hidden_layers == layers
