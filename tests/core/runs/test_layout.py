"""A run folder's layout: which checkpoints count, what a run folder stands for when loaded, which run a
model belongs to, and names that never collide."""

from __future__ import annotations

import re

import pytest

from studio.core.errors import RunError
from studio.core.runs import layout


def _checkpoint(run, step: int, complete: bool = True):
    folder = run / layout.CHECKPOINTS / f"checkpoint-{step}"
    folder.mkdir(parents=True)
    if complete:
        (folder / "trainer_state.json").write_text("{}", encoding="utf-8")
    return folder


def _run(tmp_path, name: str = "run"):
    run = tmp_path / name
    run.mkdir()
    (run / layout.CONFIG_FILE).write_text('[run]\ntask = "lm"\nmodel = "gpt-tiny"\n', encoding="utf-8")
    return run


def test_only_complete_checkpoints_count_in_step_order(tmp_path):
    run = _run(tmp_path)
    for step in (20, 3, 100):
        _checkpoint(run, step)
    _checkpoint(run, 200, complete=False)  # a save cut short
    (run / layout.CHECKPOINTS / "checkpoint-x").mkdir()
    assert [s for s, _ in layout.checkpoints(run)] == [3, 20, 100]
    assert layout.latest_checkpoint(run)[0] == 100
    assert layout.latest_checkpoint(tmp_path) is None


def test_a_run_folder_stands_for_its_model_then_its_latest_checkpoint(tmp_path):
    run = _run(tmp_path)
    with pytest.raises(RunError, match="no model or checkpoint yet"):
        layout.model_source(str(run))
    latest = _checkpoint(run, 8)
    assert layout.model_source(str(run)) == str(latest)
    (run / layout.MODEL).mkdir()
    (run / layout.MODEL / "config.json").write_text("{}", encoding="utf-8")
    assert layout.model_source(str(run)) == str(run / layout.MODEL)
    assert layout.model_source("gpt2") == "gpt2"  # a hub id passes through


def test_the_run_a_model_belongs_to_and_what_a_person_calls_it(tmp_path):
    run = _run(tmp_path, "lm-run")
    saved = _checkpoint(run, 1200)
    assert layout.run_of(saved) == run and layout.run_of(run / layout.MODEL) == run
    assert layout.run_of(tmp_path / "elsewhere") is None
    assert layout.base_of(str(saved)) == {"run": "lm-run", "path": str(run), "step": 1200}
    assert layout.base_of(str(tmp_path / "missing")) is None
    assert layout.short_name(str(saved)) == "lm-run · step 1,200"
    assert layout.short_name(str(run)) == "lm-run" and layout.short_name("gpt2") == "gpt2"
    assert layout.read_config(run) == {"task": "lm", "model": "gpt-tiny"}
    assert layout.read_config(tmp_path) == {}


def test_new_run_names_never_collide(tmp_path):
    first = layout.new_run_dir(tmp_path, "/models/my gpt", "lm")
    assert first.name.endswith("-my-gpt-lm")
    first.mkdir()
    second = layout.new_run_dir(tmp_path, "/models/my gpt", "lm")
    assert second != first and not second.exists()


def test_a_run_continuing_a_run_is_named_after_it_once(tmp_path):
    chat = tmp_path / "runs" / "2026-12-07_233334-SmolLM2-135M-Instruct-chat"
    (chat / "checkpoints" / "checkpoint-40").mkdir(parents=True)
    (chat / "config.toml").write_text('[run]\ntask = "chat"\n')
    for model in (chat, chat / "model", chat / "checkpoints" / "checkpoint-40"):
        (chat / "model").mkdir(exist_ok=True)
        name = layout.new_run_dir(tmp_path / "runs", str(model), "prefer").name
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}_\d{6}-SmolLM2-135M-Instruct-chat-prefer", name), name
    gguf_file = tmp_path / "SmolLM2-135M-Instruct.Q4_1.gguf"
    gguf_file.write_bytes(b"GGUF")
    assert layout.new_run_dir(tmp_path / "runs", str(gguf_file), "chat").name.endswith(
        "-SmolLM2-135M-Instruct.Q4_1-chat")
