"""Bad input exits 2 with one sentence, no traceback, and leaves existing runs untouched."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from studio.cli import main


def _snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha1(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and not p.name.endswith(("-wal", "-shm"))}


def _files(tmp: Path) -> dict[str, Path]:
    (tmp / "empty.txt").write_text("")
    (tmp / "binary.txt").write_bytes(b"\x00\x01\x02\xff" * 100)
    (tmp / "latin1.txt").write_bytes("caf\xe9 cr\xe8me\n".encode("latin-1") * 20)
    (tmp / "bad.jsonl").write_text('{"text": "fine"}\n{"text": oops}\n')
    (tmp / "bad.csv").write_text('text,label\n"a",1\n"b",2,3\n')
    (tmp / "good.csv").write_text("body,label\n" + "".join(f"row {i},x\n" for i in range(40)))
    (tmp / "notes.docx").write_text("not really")
    mixed = tmp / "mixed"
    mixed.mkdir()
    (mixed / "a.txt").write_text("hello\n")
    (mixed / "b.csv").write_text("text\nhi\n")
    (tmp / "labels.jsonl").write_text("".join(json.dumps(
        {"text": f"row {i} words", "label": "ab"[i % 2], "one": "same", "tags": ["a", "b"], "score": i * 1.37,
         "free": i}) + "\n" for i in range(2400)))
    (tmp / "uneven.jsonl").write_text('{"tokens": ["a", "b"], "tags": ["O", "O"]}\n'
                                      '{"tokens": ["c", "d", "e"], "tags": ["O", "B-X"]}\n' * 20)
    (tmp / "nulltag.jsonl").write_text('{"tokens": ["a", "b"], "tags": ["O", "B-X"]}\n'
                                       '{"tokens": ["c", "d"], "tags": ["O", null]}\n' * 20)
    (tmp / "numbered.jsonl").write_text('{"tokens": ["a", "b"], "tags": [0, 1]}\n' * 20)
    (tmp / "widths.conll").write_text("EU NNP B-ORG\nrejects VBZ O\n\n" * 5 + "Peter B-PER\nBlackburn NNP I-PER\n")
    (tmp / "broken.conll").write_text("EU B-ORG\nrejects O\n\n" * 10 + "Peter B-PER\nBlackburn\n")
    not_model = tmp / "not-a-model"
    not_model.mkdir()
    (not_model / "readme.txt").write_text("hi")
    return {p.stem if p.is_file() else p.name: p for p in tmp.iterdir()}


def _error_line(stderr: str) -> str:
    """Progress lines may come first; the error is exactly one line, the last, and has no traceback."""
    assert "Traceback" not in stderr and "usage:" not in stderr
    errors = [line for line in stderr.splitlines() if line.startswith("studio: ")]
    assert len(errors) == 1 and stderr.strip().splitlines()[-1] == errors[0]
    return errors[0]


CASES = [
    ("missing", ["--data", "{tmp}/nope.txt"], "does not exist"),
    ("minutes-and-steps", ["--data", "{lm}", "--minutes", "5"], "Give --minutes or --max-steps, not both"),
    ("empty", ["--data", "{empty}"], "empty"),
    ("binary", ["--data", "{binary}"], "binary"),
    ("latin1", ["--data", "{latin1}"], "UTF-8"),
    ("bad jsonl", ["--data", "{bad_jsonl}"], "line 2 is not valid JSON"),
    ("bad csv", ["--data", "{bad_csv}"], "row 3 has 3 fields"),
    ("unsupported", ["--data", "{notes}"], "not a supported file"),
    ("mixed folder", ["--data", "{mixed}"], "mixes file types"),
    ("unknown column", ["--data", "{good}", "--text-column", "nope"], "no column 'nope'"),
    ("no text column guess", ["--data", "{good}"], "Which column holds the text"),
    ("not a model", ["--data", "{lm}", "--model", "{not-a-model}"], "not a model folder"),
    ("missing model dir", ["--data", "{lm}", "--model", "./no/such/model"], "does not exist"),
    ("hub id offline", ["--data", "{lm}", "--model", "someone/some-model"], "no network"),
    ("zero steps", ["--data", "{lm}", "--max-steps", "0"], "at least 1"),
    ("batch size zero", ["--data", "{lm}", "--batch-size", "0"],
     "--batch-size: 0 is impossible; it must be at least 1 (or auto"),
    ("batch size not a number", ["--data", "{lm}", "--batch-size", "abc"], "'abc' is neither a whole number nor auto"),
    ("minutes zero", ["--data", "{lm}", "--minutes", "0"], "--minutes: 0 is impossible; it must be above 0"),
    ("a column of another task", ["--task", "classify", "--data", "{labels}", "--tags-column", "tags"],
     "--tags-column does not apply: a text classification run reads --text-column, --label-column."),
    ("a setting of another task", ["--data", "{lm}", "--nsp"], "--nsp does not apply to language modelling"),
    ("a null tag", ["--task", "tag", "--data", "{nulltag}"], "Row 2 has a null tag at place 2 of 'tags'"),
    ("negative lr", ["--data", "{lm}", "--lr", "-1"], "learning rate"),
    ("huge seq len", ["--data", "{lm}", "--seq-len", "100000"], "--seq-len"),
    ("tiny vocab", ["--data", "{lm}", "--vocab-size", "10"], "--vocab-size"),
    ("wrong preset for task", ["--data", "{lm}", "--model", "bart-tiny"], "not made for language modelling"),
    ("sample task mismatch", ["--data", "sample:docstrings", "--task", "lm"], "summarization sample"),
    ("unknown sample", ["--data", "sample:nope"], "no built-in sample"),
    ("no gpu", ["--data", "{lm}", "--device", "cuda"], "No CUDA GPU"),
    ("block too long", ["--data", "{good}", "--text-column", "body", "--seq-len", "1024"], "less than one block"),
    ("resume not a run", ["--resume", "{tmp}"], "not a run folder"),
    ("label column missing", ["--task", "classify", "--data", "{labels}", "--label-column", "nope"], "no column 'nope'"),
    ("one class", ["--task", "classify", "--data", "{labels}", "--label-column", "one"], "only the label 'same'"),
    ("label column of lists", ["--task", "classify", "--data", "{labels}", "--label-column", "tags"],
     "does not hold one label per row (it holds lists)"),
    ("label looks like regression", ["--task", "classify", "--data", "{labels}", "--label-column", "score"],
     "looks like regression"),
    ("thousands of integer labels", ["--task", "classify", "--data", "{labels}", "--label-column", "free"],
     "2,400 different numbers; that looks like regression"),
    ("classify preset for lm", ["--data", "{lm}", "--model", "bert-tiny"], "not made for language modelling"),
    ("words and tags differ", ["--task", "tag", "--data", "{uneven}"], "Row 2 has 3 words in 'tokens' but 2 tags"),
    ("conll line without a tag", ["--task", "tag", "--data", "{broken}"], "'broken.conll' line 32 has no tag"),
    ("conll lines of two widths", ["--task", "tag", "--data", "{widths}"],
     "'widths.conll' line 16 has 2 columns ('Peter B-PER') where line 1 has 3"),
    ("tags as numbers without names", ["--task", "tag", "--data", "{numbered}"], "numbers without names"),
    ("masked lm on a causal lm", ["--task", "mlm", "--data", "{lm}", "--model", "{lm_model}"],
     "decoder-only gpt2 model, which cannot be trained for masked language modelling; choose --task lm"),
    ("encoder trained as a language model", ["--data", "{lm}", "--model", "{cls_model}"],
     "is an encoder-only bert model, which cannot be trained for language modelling; choose --task classify"),
    ("out exists", ["--data", "{lm}", "--out", "{mixed}"], "already exists"),
    ("lora on a preset", ["--data", "{lm}", "--lora"], "LoRA adapts a model that has already learned"),
    ("lora rank zero", ["--data", "{lm}", "--model", "{lm_model}", "--lora", "--lora-r", "0"], "--lora-r 0"),
    ("qlora without a gpu", ["--data", "{lm}", "--model", "{lm_model}", "--qlora", "--device", "cpu"],
     "QLoRA loads the base model in 4 bits through bitsandbytes, which needs a CUDA GPU"),
    ("lora on a layer that is not there", ["--data", "{lm}", "--model", "{lm_model}", "--lora", "--lora-targets",
                                           "q_proj"], "no linear layer called q_proj; its linear layers are c_attn"),
]


@pytest.mark.parametrize("name,args,expected", CASES, ids=[c[0] for c in CASES])
def test_bad_input_exits_2_with_one_sentence(name, args, expected, ws, lm_run, cls_run, lm_text, tmp_path, capsys):
    files = _files(tmp_path)
    values = {k.replace(".", "_"): str(v) for k, v in files.items()} | {"tmp": str(tmp_path), "lm": str(lm_text),
                                                                        "bad_jsonl": str(files["bad"]),
                                                                        "bad_csv": str(tmp_path / "bad.csv"),
                                                                        "cls_model": str(cls_run / "model"),
                                                                        "lm_model": str(lm_run / "model")}
    before = _snapshot(ws / "runs")
    runs_before = sorted(p.name for p in (ws / "runs").iterdir())
    argv = ["train", *[a.format(**values) for a in args], "--max-steps" if "--max-steps" not in args else "--seed",
            "3" if "--max-steps" not in args else "1"]
    capsys.readouterr()
    assert main(argv) == 2
    err = _error_line(capsys.readouterr().err)
    assert expected in err
    assert err.endswith((".", ")"))
    assert sorted(p.name for p in (ws / "runs").iterdir()) == runs_before
    assert _snapshot(ws / "runs") == before


def test_a_workspace_that_cannot_be_written_is_named(lm_text, tmp_path, capsys):
    (tmp_path / "a-file").write_text("not a folder")
    capsys.readouterr()
    assert main(["--workspace", str(tmp_path / "a-file" / "ws"), "train", "--data", str(lm_text)]) == 2
    assert _error_line(capsys.readouterr().err).startswith(f"studio: The workspace '{tmp_path / 'a-file' / 'ws'}' "
                                                             f"cannot be written (Not a directory: "
                                                             f"'{tmp_path / 'a-file'}')")


def test_lora_targets_are_checked_before_the_data_is_read(ws, lm_run, lm_text, capsys):
    capsys.readouterr()
    assert main(["train", "--data", str(lm_text), "--model", str(lm_run / "model"), "--lora", "--lora-targets",
                 "q_proj", "--max-steps", "2"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("studio: gpt2 has no linear layer called q_proj") and "Loading" not in err


@pytest.mark.parametrize("argv,expected", [
    (["generate", "--model", "{tmp}", "--prompt", "hi"], "not a model folder"),
    (["generate", "--model", "{cls_run}", "--prompt", "hi"], "does not write text. Use 'studio classify'"),
    (["classify", "--model", "{lm_run}", "--text", "hi"], "does not classify text. Use 'studio generate'"),
    (["classify", "--model", "{cls_run}", "--text", "  "], "no text to classify"),
    (["evaluate", "--model", "{lm_run}", "--data", "{lm}", "--label-column", "label"],
     "--label-column does not apply: the model is a language modelling model"),
    (["evaluate", "--model", "{cls_run}", "--data", "{lm}"], "Which column holds the label"),
    (["attention", "--model", "{lm_run}", "--text", "hi", "--out", "{lm}/x.npz"], "is a file, not a folder"),
    (["fill-mask", "--model", "{mlm_run}", "--text", "no gap"], "The text has no [MASK]; put [MASK] where"),
    (["fill-mask", "--model", "{mlm_run}", "--text", "def [MASK](x): return <mask>"],
     "The text has <mask>, which this model reads as plain text (its mask token is [MASK])"),
    (["fill-mask", "--model", "{cls_run}", "--text", "a [MASK]"], "does not fill in masks. Use 'studio classify'"),
    (["tag", "--model", "{cls_run}", "--text", "Alice"], "does not tag words. Use 'studio classify'"),
    (["tag", "--model", "{mlm_run}", "--text", "Alice"], "does not tag words. Use 'studio fill-mask'"),
    (["generate", "--model", "{lm_run}", "--prompt", "hi", "--top-p", "2"], "--top-p"),
    (["generate", "--model", "{lm_run}", "--prompt", "hi", "--max-new-tokens", "5000"], "--max-new-tokens"),
    (["summarize", "--model", "{lm_run}", "--text", "some text"], "decoder-only"),
    (["summarize", "--model", "{lm_run}", "--file", "{tmp}/none.txt"], "does not exist"),
    (["attention", "--model", "{lm_run}", "--text", "hi", "--out", "{tmp}/a.png"], ".npz"),
    (["runs", "show", "no-such-run"], "no run"),
    (["tokenizer", "train", "--data", "{tmp}/none.txt", "--out", "{tmp}/tok"], "does not exist"),
    (["tokenizer", "train", "--data", "{lm}", "--vocab-size", "5", "--out", "{tmp}/tok"], "vocabulary size"),
    (["tokenizer", "train", "--data", "{lm}", "--out", "{lm_run}/tokenizer"],
     "is part of the run folder lm-run; replacing it would lose the run's work"),
])
def test_other_commands_reject_bad_input(argv, expected, ws, lm_run, cls_run, mlm_run, lm_text, tmp_path, capsys):
    values = {"tmp": str(tmp_path), "lm_run": str(lm_run), "lm": str(lm_text), "cls_run": str(cls_run),
              "mlm_run": str(mlm_run)}
    capsys.readouterr()
    assert main([a.format(**values) for a in argv]) == 2
    assert expected in _error_line(capsys.readouterr().err)
