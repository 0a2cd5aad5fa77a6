"""A checkpoint's files are judged whole or cut short without loading them; resuming steps back past broken
ones, which are moved aside and kept."""

from __future__ import annotations

import json

import torch
from safetensors.torch import save_file

from studio.core.runs import integrity


def _checkpoint(folder, step: int):
    path = folder / "checkpoints" / f"checkpoint-{step}"
    path.mkdir(parents=True)
    save_file({"w": torch.ones(64, 64)}, str(path / "model.safetensors"))
    torch.save({"state": torch.zeros(128)}, path / "optimizer.pt")
    (path / "trainer_state.json").write_text(json.dumps({"global_step": step}))
    return path


def _cut(path, keep: int = 100) -> None:
    path.write_bytes(path.read_bytes()[:-keep])


def test_whole_files_pass_and_each_kind_cut_short_is_named(tmp_path):
    path = _checkpoint(tmp_path, 3)
    assert integrity.problem(path) is None
    for name, expected in (("model.safetensors", "model.safetensors is cut short"),
                           ("optimizer.pt", "optimizer.pt is cut short"),
                           ("trainer_state.json", "trainer_state.json is not readable JSON")):
        fresh = _checkpoint(tmp_path / name, 3)
        _cut(fresh / name, keep=3)
        assert integrity.problem(fresh) == expected


def test_resuming_steps_back_to_the_newest_whole_checkpoint_and_keeps_the_broken_one(tmp_path):
    _checkpoint(tmp_path, 3)
    broken = _checkpoint(tmp_path, 6)
    _cut(broken / "optimizer.pt")
    found, notes = integrity.newest_whole(tmp_path)
    assert found == (3, tmp_path / "checkpoints" / "checkpoint-3")
    assert notes == ["Checkpoint 6 is broken (optimizer.pt is cut short); it was moved to "
                     "checkpoints-broken/checkpoint-6 and the run resumes from the checkpoint before it."]
    assert not broken.exists() and (tmp_path / "checkpoints-broken" / "checkpoint-6" / "optimizer.pt").is_file()
    _cut(tmp_path / "checkpoints" / "checkpoint-3" / "model.safetensors")
    assert integrity.newest_whole(tmp_path)[0] is None
