"""Planning a training job decides everything a person's settings can fail before any work: nothing is
written until a plan is carried out."""

from __future__ import annotations

import pytest

from studio.core.errors import ConfigError, RunError
from studio.core.runs import layout, writer
from studio.core.training import config as run_config
from studio.core.training import plan
from studio.core.training.config import RunConfig


def _stopped_run(folder, config: RunConfig, checkpoint_step: int | None = 4):
    folder.mkdir()
    (folder / layout.CONFIG_FILE).write_text(run_config.dumps(run_config.validate(config)), encoding="utf-8")
    store = writer.RunStore(folder)
    store.mark_running(config.max_steps)
    store.mark_finished("stopped")
    store.close()
    if checkpoint_step is not None:
        saved = folder / layout.CHECKPOINTS / f"checkpoint-{checkpoint_step}"
        saved.mkdir(parents=True)
        (saved / "trainer_state.json").write_text("{}", encoding="utf-8")
    return folder


def test_a_new_run_is_named_only_when_carried_out(tmp_path):
    made = plan.new(RunConfig(max_steps=10), root=tmp_path)
    assert made.fresh and made.run_dir is None and not made.launches and made.checkpoint is None
    assert not any(tmp_path.iterdir())
    assert made.folder().parent == tmp_path / "runs"


def test_a_new_run_refuses_a_folder_with_something_in_it(tmp_path):
    out = tmp_path / "taken"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(ConfigError, match="already exists and is not empty"):
        plan.new(RunConfig(), root=tmp_path, out=out)
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    assert plan.new(RunConfig(), root=tmp_path, out=tmp_path / "empty").run_dir == tmp_path / "empty"


def test_a_resume_continues_the_latest_checkpoint_and_rewrites_its_config_only_when_changed(tmp_path):
    run = _stopped_run(tmp_path / "run", RunConfig(max_steps=10))
    same = plan.resume(run, {"max_steps": 10}, root=tmp_path)
    assert same.resume and not same.fresh and same.checkpoint[0] == 4 and not same.write_config
    longer = plan.resume(run, {"max_steps": 20}, root=tmp_path)
    assert longer.write_config and longer.config.max_steps == 20


def test_a_resume_refuses_what_would_change_the_run(tmp_path):
    run = _stopped_run(tmp_path / "run", RunConfig(max_steps=4))
    with pytest.raises(ConfigError, match="lr cannot change"):
        plan.resume(run, {"lr": 0.5}, root=tmp_path)
    finishing = plan.resume(run, {}, root=tmp_path)  # all steps trained, the model never written: write it
    assert finishing.checkpoint[0] == 4
    (run / layout.MODEL).mkdir()
    (run / layout.MODEL / "config.json").write_text("{}", encoding="utf-8")
    with pytest.raises(RunError, match="already trained all 4 steps"):
        plan.resume(run, {}, root=tmp_path)


def test_a_launched_process_takes_the_config_the_launcher_wrote(tmp_path):
    run = _stopped_run(tmp_path / "run", RunConfig(max_steps=10, lr=0.01))
    part = plan.launched(run, tmp_path, resume=True)
    assert part.launched and not part.fresh and not part.write_config and part.config.lr == 0.01
    assert part.checkpoint[0] == 4 and part.own_tokenizer is None
    assert plan.launched(run, tmp_path, resume=False).checkpoint is None
