"""Exports round-trip: the GGUF file loads back through transformers with the exported model's tokens,
template and logits (f16 within 1e-2, q8_0 with the same greedy answers); a LoRA run exports merged, with a
model card, and loads in a plain pipeline; Ollama's folder holds the file and the Modelfile. A cancel, a
failure or a full disk leaves nothing at the path; bad choices are sentences before anything is written."""

from __future__ import annotations

import errno
import json
import resource
import subprocess
from pathlib import Path

import pytest
import torch

from studio.cli import main
from studio.core.control import Control
from studio.core.errors import Cancelled, ConfigError, ModelError, StudioError
from studio.core.export import exporter, to_gguf
from studio.core.system import disk
from tests.helpers import CHAT_TEXTS

QUESTIONS = ["What does len do?", "And abs?", "Answer in one line."]


def _chat_rows(n: int) -> list[dict]:
    lines = CHAT_TEXTS[0].split("? ")
    return [{"messages": [{"role": "user", "content": lines[i % 2] + "?"},
                          {"role": "assistant", "content": lines[(i % 2) + 1]}]} for i in range(n)]


@pytest.fixture(scope="module")
def chat_data(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("export-data") / "chat.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in _chat_rows(64)))
    return path


@pytest.fixture(scope="module")
def tuned(chat_model, chat_data, workspace_dir, tmp_path_factory) -> Path:
    """A chat run that learned something, so its greedy answers are not ties a rounding could flip."""
    run = tmp_path_factory.mktemp("export-runs") / "tuned"
    assert main(["--workspace", str(workspace_dir), "train", "--task", "chat", "--model", str(chat_model), "--data",
                 str(chat_data), "--out", str(run), "--max-steps", "30", "--eval-every", "30", "--save-every", "30",
                 "--batch-size", "8", "--lr", "3e-3", "--seq-len", "64", "--device", "cpu"]) == 0
    return run


def _logits_and_answers(model, tokenizer) -> tuple[list[torch.Tensor], list[list[int]]]:
    logits, answers = [], []
    for question in QUESTIONS:
        ids = tokenizer.apply_chat_template([{"role": "user", "content": question}], add_generation_prompt=True,
                                            return_tensors="pt", return_dict=True)["input_ids"]
        with torch.no_grad():
            logits.append(model(ids).logits[0].float())
            answers.append(model.generate(ids, max_new_tokens=12, do_sample=False)[0, ids.shape[1]:].tolist())
    return logits, answers


def _exported(run: Path, fmt: str, out: Path, *extra: str) -> int:
    return main(["export", "--model", str(run), "--format", fmt, "--out", str(out), *extra])


@pytest.mark.slow  # converts, then reads the file back through transformers' GGUF loader: 10 s
def test_a_gguf_file_loads_back_as_the_model_it_came_from(tuned, ws, tmp_path):
    from gguf import GGUFReader
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source = tuned / "model"
    model, tok = AutoModelForCausalLM.from_pretrained(source), AutoTokenizer.from_pretrained(source)
    want_logits, want_answers = _logits_and_answers(model, tok)
    for quant in ("f16", "q8_0"):
        file = tmp_path / f"tuned-{quant}.gguf"
        assert _exported(tuned, "gguf", file, "--quant", quant) == 0
        back = AutoModelForCausalLM.from_pretrained(tmp_path, gguf_file=file.name)
        back_tok = AutoTokenizer.from_pretrained(tmp_path, gguf_file=file.name)
        text = "What does len do? It returns"
        assert back_tok(text)["input_ids"] == tok(text)["input_ids"]
        assert back_tok.chat_template == tok.chat_template and back_tok.eos_token == tok.eos_token == "<|im_end|>"
        fields = GGUFReader(str(file)).fields
        assert bytes(fields["tokenizer.chat_template"].parts[-1]).decode() == tok.chat_template
        logits, answers = _logits_and_answers(back, back_tok)
        if quant == "f16":
            assert all((a - b).abs().max() < 1e-2 for a, b in zip(logits, want_logits, strict=True))
        assert answers == want_answers, quant
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left behind


def test_a_lora_run_exports_merged_with_a_card_and_loads_in_a_plain_pipeline(chat_model, chat_data, ws, tmp_path,
                                                                               capsys):
    from transformers import AutoModelForCausalLM, pipeline

    run = tmp_path / "lora"
    assert main(["train", "--task", "chat", "--model", str(chat_model), "--data", str(chat_data), "--out", str(run),
                 "--lora", "--lr", "1e-2", "--max-steps", "6", "--eval-every", "3", "--save-every", "6", "--batch-size",
                 "8", "--seq-len", "64", "--device", "cpu"]) == 0
    out = tmp_path / "exported"
    capsys.readouterr()
    assert _exported(run / "adapter", "hf", out) == 0
    err = capsys.readouterr().err
    assert f"Writes {out} (" in err and "Wrote" in err
    assert not list(out.glob("adapter*")) and (out / "model.safetensors").is_file()
    ids = torch.tensor([[1, 5, 9, 20, 7]])
    with torch.no_grad():
        mine = AutoModelForCausalLM.from_pretrained(out)(ids).logits
        merged = AutoModelForCausalLM.from_pretrained(run / "model")(ids).logits
    torch.testing.assert_close(mine, merged)
    generated = pipeline("text-generation", model=str(out))([{"role": "user", "content": "What does len do?"}],
                                                             max_new_tokens=4, do_sample=False)
    assert generated[0]["generated_text"][-1]["role"] == "assistant"
    readme = (out / "README.md").read_text()
    assert "pipeline_tag: text-generation" in readme and "| Task | Chat (chat) |" in readme
    assert f"| Started from | {chat_model} |" in readme and "| Steps | 6 of 6 |" in readme
    assert "Validation loss, last evaluation" in readme and "LoRA r 8" in readme


@pytest.mark.slow  # the export dialog's quick test writes an Ollama folder too
def test_an_ollama_folder_holds_the_file_the_modelfile_and_the_command(tuned, ws, tmp_path, capsys):
    out = tmp_path / "ollama"
    capsys.readouterr()
    assert _exported(tuned, "ollama", out, "--quant", "q8_0") == 0
    captured = capsys.readouterr()
    assert (out / "tuned-q8_0.gguf").is_file() and (out / "README.md").is_file()
    modelfile = (out / "Modelfile").read_text()
    assert modelfile.startswith("FROM ./tuned-q8_0.gguf") and "<|im_start|>" in modelfile
    assert f"cd {out} && ollama create tuned -f Modelfile" in captured.err
    assert captured.out.split() == [str(out / "tuned-q8_0.gguf"), str(out / "Modelfile")]


def test_a_cancelled_export_leaves_nothing(tuned, ws, tmp_path):
    for fmt, out in (("gguf", tmp_path / "x.gguf"), ("ollama", tmp_path / "ollama"), ("hf", tmp_path / "hf")):
        control = Control()
        planned = exporter.plan(str(tuned), fmt, str(out))
        with pytest.raises(Cancelled):  # stopped when it first reports, as a Cancel button does
            exporter.run(planned, progress=lambda stage, fraction, control=control: control.stop(), control=control)
        assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_a_disk_that_fills_up_leaves_no_partial_file(tuned, ws, tmp_path, monkeypatch):
    # the converter's process may write 100 KB and no more, as on a disk that is full
    real = subprocess.Popen

    def limited(*args, **kwargs):
        return real(*args, preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000)), **kwargs)

    monkeypatch.setattr(to_gguf.subprocess, "Popen", limited)
    file = tmp_path / "full.gguf"
    with pytest.raises(StudioError, match="full"):
        exporter.run(exporter.plan(str(tuned), "gguf", str(file)))
    assert list(tmp_path.iterdir()) == []

    def no_room(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("transformers.PreTrainedModel.save_pretrained", no_room)
    with pytest.raises(StudioError, match="The disk filled up"):
        exporter.run(exporter.plan(str(tuned), "hf", str(tmp_path / "hf")))
    assert list(tmp_path.iterdir()) == []


def test_too_little_free_space_is_refused_before_anything_is_written(tuned, ws, tmp_path, monkeypatch):
    monkeypatch.setattr(disk.shutil, "disk_usage", lambda path: type("Usage", (), {"free": 1000})())
    with pytest.raises(StudioError, match="has 1000 bytes free and the export needs about"):
        exporter.plan(str(tuned), "gguf", str(tmp_path / "x.gguf"))


@pytest.mark.parametrize(("fixture", "args", "words"), [
    ("sum_run", ["--format", "gguf"], "does not convert BartForConditionalGeneration models"),
    ("cls_run", ["--format", "ollama"], "Ollama runs models that write text"),
    ("tuned", ["--format", "gguf", "--quant", "q4_k"], "Unknown --quant 'q4_k'; choose one of f16, bf16, q8_0, f32"),
    ("tuned", ["--format", "hf", "--quant", "q8_0"], "--quant is for gguf and ollama files"),
    ("tuned", ["--format", "zip"], "Unknown format 'zip'; choose one of hf, gguf, ollama, hub."),
    ("tuned", ["--format", "gguf", "--out-is-under-a-file"], "which is a file; choose a path in a folder"),
    ("tuned", ["--format", "hf", "--out-exists"], "already exists; choose another --out, or add --overwrite"),
    ("tuned", ["--format", "gguf", "--out-not-gguf"], "A GGUF file's name ends in .gguf"),
    ("tuned", ["--format", "hub", "--out-repo", "not a repo"], "is not a Hub repository id"),
])
def test_bad_choices_are_sentences_and_write_nothing(fixture, args, words, request, ws, tmp_path, capsys):
    run = request.getfixturevalue(fixture)
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "config.json").write_text("{}")
    out = {"--out-is-under-a-file": tmp_path / "a-file" / "x.gguf", "--out-exists": tmp_path / "taken",
           "--out-not-gguf": tmp_path / "model.bin", "--out-repo": "not a repo"}
    flags = [a for a in args if a not in out and a != "not a repo"]
    target = next((out[a] for a in args if a in out), tmp_path / "new")
    before = sorted(tmp_path.rglob("*"))
    assert main(["export", "--model", str(run), "--out", str(target), *flags]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
    assert sorted(tmp_path.rglob("*")) == before


def test_plan_says_what_it_writes_and_how_big(tuned, ws, tmp_path):
    planned = exporter.plan(str(tuned), "ollama", str(tmp_path / "o"), "q8_0")
    lines = planned.describe()
    assert lines[0].startswith(f"Writes {tmp_path / 'o' / 'tuned-q8_0.gguf'} (") and "KB)" in lines[0]
    assert lines[1].startswith(f"Writes {tmp_path / 'o' / 'Modelfile'}")
    with pytest.raises((ConfigError, ModelError)):
        exporter.plan(str(tuned), "gguf", str(tmp_path / "o.gguf"), "q2")


def _tree(folder: Path) -> list[tuple[str, int, int]]:
    return sorted((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file())


@pytest.mark.parametrize(("where", "words"), [
    ("run", "is the run folder cls-run; replacing it would lose the run's work"),
    ("model", "is part of the run folder cls-run"),
    ("runs", "holds the Studio run"),
    ("workspace", "is Studio's workspace"),
])
def test_overwrite_never_replaces_a_run_the_model_or_the_workspace(where, words, cls_run, ws, capsys):
    target = {"run": cls_run, "model": cls_run / "model", "runs": cls_run.parent, "workspace": ws}[where]
    before = _tree(cls_run)
    assert main(["export", "--model", str(cls_run), "--format", "hf", "--out", str(target), "--overwrite"]) == 2
    err = capsys.readouterr().err
    assert words in err and "nothing was replaced" in err and "Traceback" not in err
    assert _tree(cls_run) == before


def test_overwrite_replaces_an_earlier_export(cls_run, ws, tmp_path):
    out = tmp_path / "exported"
    assert _exported(cls_run, "hf", out) == 0
    (out / "stale.txt").write_text("from before")
    assert _exported(cls_run, "hf", out, "--overwrite") == 0
    assert (out / "config.json").is_file() and not (out / "stale.txt").exists()
