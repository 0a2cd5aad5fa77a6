"""`--batch-size auto` finds the largest batch that fits; running out of memory ends a run with a checkpoint
and a batch size to resume with. Out-of-memory is simulated: the forward pass raises it above a size."""

from __future__ import annotations

import json

import pytest
import torch
from transformers import GPT2LMHeadModel

from studio.cli import main
from studio.core.training import batch_finder
from tests.helpers import TINY_LM, train_cli


def _oom_above(monkeypatch, rows: int, after_calls: int = 0) -> None:
    forward = GPT2LMHeadModel.forward
    calls = {"n": 0}

    def limited(self, input_ids=None, **kwargs):
        calls["n"] += 1
        if input_ids is not None and input_ids.shape[0] > rows and calls["n"] > after_calls:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return forward(self, input_ids=input_ids, **kwargs)

    monkeypatch.setattr(GPT2LMHeadModel, "forward", limited)


@pytest.mark.slow  # steps the real model at shrinking batches: 6 s
def test_the_finder_shrinks_the_batch_until_a_step_fits(monkeypatch, lm_run):
    from studio.core.tasks.loaded import load

    loaded = load(str(lm_run))
    from datasets import Dataset

    rows = Dataset.from_list([{"input_ids": list(range(3, 35)), "labels": list(range(3, 35))} for _ in range(64)])

    def collate(batch):
        return {k: torch.tensor([r[k] for r in batch]) for k in ("input_ids", "labels")}

    _oom_above(monkeypatch, 20)
    before = [p.detach().clone() for p in loaded.model.parameters()]
    found, tried = batch_finder.find(loaded.model, rows, collate, device="cpu", precision="fp32", start=64)
    assert tried[0] == 64 and tried[-1] == found and tried == sorted(tried, reverse=True)
    assert 18 <= found <= 20  # accelerate shrinks by a tenth a try: the largest of its sizes that fit
    assert all(torch.equal(a, b) for a, b in zip(before, loaded.model.parameters(), strict=True))  # lr 0


def test_auto_on_a_cpu_takes_a_cpu_sized_batch(ws, lm_text, tmp_path, capsys):
    args = [a for a in TINY_LM]
    args[args.index("--batch-size") + 1] = "auto"
    args[args.index("--max-steps") + 1] = "2"
    out = tmp_path / "auto"
    assert train_cli(ws, out, lm_text, args) == 0
    assert f"batch_size = {batch_finder.CPU_BATCH}" in (out / "config.toml").read_text()


def test_out_of_memory_saves_a_checkpoint_and_proposes_a_batch_that_resumes(ws, lm_text, tmp_path, capsys,
                                                                          monkeypatch):
    args = [a for a in TINY_LM]
    args[args.index("--max-steps") + 1] = "5"
    args[args.index("--eval-every") + 1] = "100"
    args[args.index("--save-every") + 1] = "100"
    out = tmp_path / "oom"
    _oom_above(monkeypatch, 4, after_calls=3)  # steps 1-3 train at batch 8, step 4 runs out of memory
    assert train_cli(ws, out, lm_text, args) == 2
    err = capsys.readouterr().err
    assert "Out of memory on cpu at batch size 8" in err and "checkpoint was saved at step 3" in err
    assert "--batch-size 4" in err and "Traceback" not in err
    assert (out / "checkpoints" / "checkpoint-3" / "trainer_state.json").is_file()
    monkeypatch.undo()
    _oom_above(monkeypatch, 4)  # the memory is still that small: the proposed batch must fit
    assert main(["--workspace", str(ws), "train", "--resume", str(out), "--batch-size", "4"]) == 0
    capsys.readouterr()
    assert main(["runs", "show", str(out), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["status"] == "completed" and info["global_step"] == 5


@pytest.mark.parametrize("text,value", [("auto", 0), ("12", 12)])
def test_the_flag_takes_a_number_or_auto(text, value):
    from studio.cli import build_parser

    assert build_parser().parse_args(["train", "--batch-size", text]).batch_size == value
