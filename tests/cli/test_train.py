"""`studio train`, `studio runs`: the contract scripts rely on, and what a run folder holds."""

from __future__ import annotations

import json
import math

import pytest

from studio.cli import main
from tests.helpers import TINY_LM, train_cli


def _show(capsys: pytest.CaptureFixture, run) -> dict:
    capsys.readouterr()
    assert main(["runs", "show", str(run), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_train_completes_and_exports_a_loadable_model(lm_run, ws, capsys):
    info = _show(capsys, lm_run)
    assert info["status"] == "completed"
    assert info["global_step"] == 24
    assert [c["step"] for c in info["checkpoints"]] == [8, 16, 24]
    model_dir = lm_run / "model"
    assert info["model_dir"] == str(model_dir)
    assert (model_dir / "model.safetensors").is_file()
    assert not list(lm_run.rglob("*.bin")) and not list(lm_run.rglob("pytorch_model*"))
    from transformers import pipeline

    out = pipeline("text-generation", model=str(model_dir), device="cpu")("def ", max_new_tokens=5, do_sample=False)
    assert out[0]["generated_text"].startswith("def ")


def test_history_has_the_metrics_a_monitor_needs(lm_run, ws, capsys):
    history = _show(capsys, lm_run)["history"]
    steps = [row["step"] for row in history]
    assert steps == sorted(steps) and steps[0] == 1 and steps[-1] == 24
    train = [r for r in history if "train_loss" in r]
    evals = [r for r in history if "eval_loss" in r]
    assert {"train_loss", "learning_rate", "grad_norm", "tokens_per_second", "memory_bytes", "epoch"} <= train[-1].keys()
    assert [r["step"] for r in evals] == [8, 16, 24]
    assert math.isclose(evals[-1]["eval_perplexity"], math.exp(evals[-1]["eval_loss"]), rel_tol=1e-6)
    assert train[-1]["train_loss"] < train[0]["train_loss"]  # it learned something


def test_runs_list_shows_the_run(lm_run, ws, capsys):
    capsys.readouterr()
    assert main(["runs", "list", "--json"]) == 0
    names = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert names["lm-run"]["status"] == "completed"
    assert main(["runs", "list"]) == 0
    assert "lm-run" in capsys.readouterr().out


def test_summarization_run_reports_rouge(sum_run, ws, capsys):
    info = _show(capsys, sum_run)
    assert info["status"] == "completed"
    evals = [r for r in info["history"] if "eval_loss" in r]
    assert evals and {"eval_rouge1", "eval_rouge2", "eval_rougeL"} <= evals[-1].keys()
    assert all(0.0 <= evals[-1][k] <= 1.0 for k in ("eval_rouge1", "eval_rougeL"))


def test_resume_extends_a_finished_run_and_keeps_the_step_count(ws, lm_text, capsys, tmp_path):
    out = tmp_path / "ext"
    assert train_cli(ws, out, lm_text, TINY_LM[:6] + ["--max-steps", "8", "--eval-every", "4", "--save-every",
                                                       "4", "--device", "cpu"]) == 0
    assert main(["train", "--resume", str(out)]) == 2  # all planned steps done: says so, exits 2
    assert "--max-steps" in capsys.readouterr().err
    assert main(["train", "--resume", str(out), "--max-steps", "12"]) == 0
    info = _show(capsys, out)
    assert info["global_step"] == 12 and info["status"] == "completed"
    assert [c["step"] for c in info["checkpoints"]][-1] == 12
    assert main(["train", "--resume", str(out), "--max-steps", "16", "--model", "gpt-small"]) == 2
    assert "cannot change" in capsys.readouterr().err


def test_config_file_and_flags(ws, lm_text, tmp_path, capsys):
    cfg = tmp_path / "run.toml"
    cfg.write_text(f'[run]\ndata = "{lm_text}"\nvocab_size = 400\nseq_len = 32\nbatch_size = 4\nmax_steps = 3\n'
                   'eval_every = 3\nsave_every = 3\ndevice = "cpu"\n', encoding="utf-8")
    out = tmp_path / "from-config"
    assert main(["train", "--config", str(cfg), "--max-steps", "2", "--out", str(out)]) == 0
    info = _show(capsys, out)
    assert info["global_step"] == 2 and info["data"] == str(lm_text)
    assert 'max_steps = 2' in (out / "config.toml").read_text()


def test_help_gives_every_flag_a_description_and_its_default(capsys):
    import re

    capsys.readouterr()
    assert main(["train", "--help"]) == 0
    shown = " ".join(capsys.readouterr().out.split())
    for flag, default in (("--max-steps N", "600"), ("--lr X", "0.001"), ("--batch-size N|auto", "16"),
                          ("--eval-every N", "100")):
        assert re.search(re.escape(flag) + r" [^-]*\(default: " + re.escape(default) + r"\)", shown), flag
    assert "qa: question answering (default data sample:python-qa, model bert-tiny, --max-steps 2000" in shown
    from studio.cli import build_parser

    commands = next(a for a in build_parser()._actions if a.dest == "command").choices
    for name in commands:
        undescribed = [a.option_strings[0] for a in commands[name]._actions if a.option_strings and not a.help]
        assert undescribed == [], name
