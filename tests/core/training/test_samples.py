"""Answers a person can watch improve: a generative run answers its sample prompts at every evaluation,
greedily, as the model of that step would answer them anywhere else."""

from __future__ import annotations

import json

import pytest

from studio.cli import main
from studio.core.playground import generation, sampling
from studio.core.runs import reader, writer
from studio.core.tasks import loaded as inference
from studio.core.training.samples import OPTIONS
from tests.helpers import TINY_CLS, TINY_LM, train_cli


def test_each_evaluation_answers_the_same_prompts_as_the_model_would(ws, lm_text, tmp_path, capsys):
    out = tmp_path / "run"
    assert train_cli(ws, out, lm_text, TINY_LM) == 0  # 24 steps, evaluating every 8
    assert "Step 24, sample answers:\n  '" in capsys.readouterr().err  # the terminal shows them as they come
    samples = reader.read(out).samples
    assert sorted({s["step"] for s in samples}) == [8, 16, 24]
    prompts = [[s["prompt"] for s in samples if s["step"] == step] for step in (8, 16, 24)]
    assert len(prompts[0]) == 4 and prompts[0] == prompts[1] == prompts[2]
    assert all(s["reference"] for s in samples)  # what the text went on to say
    last = [s for s in samples if s["step"] == 24]
    model = inference.load(str(out))  # the exported model is the one of the last evaluation
    for sample in last:
        plain = generation.generate(model, sample["prompt"], sampling.Sampling.from_options(OPTIONS))
        assert sample["output"] == plain.text
    capsys.readouterr()
    assert main(["runs", "show", str(out), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)["samples"]
    assert shown == samples and set(shown[0]) == {"step", "prompt", "output", "reference"}


def test_the_persons_own_prompts(ws, lm_text, tmp_path):
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("def add(a, b):\n\n   class Point:  \n", encoding="utf-8")
    out = tmp_path / "run"
    args = [*TINY_LM, "--sample-prompts", str(prompts)]
    args[args.index("--max-steps") + 1] = "8"
    assert train_cli(ws, out, lm_text, args) == 0
    samples = reader.read(out).samples
    assert [(s["step"], s["prompt"], s["reference"]) for s in samples] == [(8, "def add(a, b):", ""),
                                                                          (8, "class Point:", "")]


@pytest.mark.parametrize("content,said", [(None, "does not exist"), ("\n  \n", "has no prompts"),
                                          ("p\n" * 17, "keep it to 16")])
def test_a_prompts_file_that_cannot_serve_is_a_sentence(ws, lm_text, tmp_path, capsys, content, said):
    prompts = tmp_path / "prompts.txt"
    if content is not None:
        prompts.write_text(content, encoding="utf-8")
    assert train_cli(ws, tmp_path / "run", lm_text, [*TINY_LM, "--sample-prompts", str(prompts)]) == 2
    assert said in capsys.readouterr().err and not (tmp_path / "run").exists()


def test_a_task_whose_models_do_not_write_text_has_no_sample_prompts(ws, labelled_csv, tmp_path, capsys):
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("hello\n", encoding="utf-8")
    assert train_cli(ws, tmp_path / "run", labelled_csv, [*TINY_CLS, "--sample-prompts", str(prompts)]) == 2
    assert "--sample-prompts is for tasks whose models write text" in capsys.readouterr().err


def test_a_resumed_run_forgets_the_answers_after_its_checkpoint(tmp_path):
    store = writer.RunStore(tmp_path)
    for step in (10, 20):
        store.samples(step, [{"prompt": "p", "output": f"at {step}", "reference": "r"}])
    store.truncate_after(10)
    store.close()
    assert [s["output"] for s in reader.read(tmp_path).samples] == ["at 10"]
