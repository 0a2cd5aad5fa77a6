"""A run of several processes (two gloo CPU processes, started by accelerate's launcher): one run
folder written by the main process, pause, save and stop reaching every process, resume with another
number of processes, and bad data refused without leaving a folder behind."""

from __future__ import annotations

import dataclasses
import json
import threading
import time

import pytest

from studio.cli import main
from studio.core.control import Control
from studio.core.errors import ConfigError, StudioError
from studio.core.runs import layout, lock, reader
from studio.core.training import config as run_config
from studio.core.training import engine, launch
from studio.core.training import plan as planning
from studio.core.training.config import RunConfig
from studio.core.training.events import Checkpoint, Metrics, Status


def _two(data) -> RunConfig:
    return RunConfig(data=str(data), vocab_size=300, seq_len=16, batch_size=4, max_steps=8, eval_every=4,
                     save_every=4, log_every=2, device="cpu", num_processes=2)


def _steps(run_dir) -> list[int]:
    return [row["step"] for row in reader.read(run_dir).history]


@pytest.mark.slow
def test_two_processes_train_one_run_that_resumes_in_one(lm_text, ws, tmp_path, capsys):
    events: list = []
    run_dir = tmp_path / "two"
    result = engine.train(_two(lm_text), root=ws, out=run_dir, listeners=[events.append])
    assert result.status == "completed" and result.global_step == 8
    info = reader.read(run_dir)
    assert info.world_size == 2 and info.status == "completed" and info.model_dir
    assert _steps(run_dir) == [1, 2, 4, 6, 8]  # each step once: only the main process writes the store
    assert [e.step for e in events if isinstance(e, Metrics) and "train_loss" in e.values] == [1, 2, 4, 6, 8]
    assert {p.name for p in (run_dir / layout.CHECKPOINTS / "checkpoint-8").glob("rng_state*")} == {
        "rng_state_0.pth", "rng_state_1.pth"}  # both processes wrote into the checkpoint before it was renamed
    staged = [p for p in run_dir.glob(".*") if p.name != lock.LOCK_FILE]  # the run's lock is no leftover
    assert not staged and not list((run_dir / layout.CHECKPOINTS).glob(".*"))
    capsys.readouterr()
    assert main(["runs", "show", str(run_dir), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["world_size"] == 2

    result = engine.resume(run_dir, {"max_steps": 12, "num_processes": 1}, root=ws)
    assert result.status == "completed" and result.global_step == 12
    assert _steps(run_dir) == [1, 2, 4, 6, 8, 10, 12]
    assert reader.read(run_dir).world_size == 1


@pytest.mark.slow
def test_pause_save_and_stop_reach_every_process(lm_text, ws, tmp_path):
    control = Control()
    events: list = []

    def listen(event) -> None:
        events.append(event)
        if isinstance(event, Metrics) and event.step == 2 and not control.paused:
            control.pause()
        elif isinstance(event, Status) and event.status == "paused" and not control.stopped:
            control.request_save()
        elif isinstance(event, Checkpoint) and control.paused:
            control.stop()  # saved while paused; now stop, which must wake every process

    config = dataclasses.replace(_two(lm_text), max_steps=400, eval_every=400, save_every=400)
    result = engine.train(config, root=ws, out=tmp_path / "steered", listeners=[listen], control=control)
    assert result.status == "stopped" and result.global_step < 400
    saved = [s for s, _ in layout.checkpoints(tmp_path / "steered")]
    assert saved[0] in (2, 3) and saved[-1] == result.global_step
    statuses = [e.status for e in events if isinstance(e, Status)]
    assert "paused" in statuses and statuses[-1] == "stopped"
    assert reader.read(tmp_path / "steered").status == "stopped"


@pytest.mark.slow
def test_bad_data_in_the_processes_is_one_sentence_and_leaves_no_folder(tmp_path, ws):
    bad = tmp_path / "rows.csv"
    bad.write_text("text,label\nonly one row,a\n", encoding="utf-8")
    config = RunConfig(task="classify", data=str(bad), vocab_size=300, seq_len=16, batch_size=4, max_steps=4,
                       device="cpu", num_processes=2)
    with pytest.raises(StudioError) as caught:
        engine.train(config, root=ws, out=tmp_path / "refused")
    assert "Traceback" not in str(caught.value) and len(str(caught.value)) > 20
    assert not (tmp_path / "refused").exists()


def test_several_processes_are_checked_before_launch(lm_text):
    with pytest.raises(ConfigError, match="--num-processes 0 is impossible"):
        run_config.validate(RunConfig(num_processes=0))
    with pytest.raises(ConfigError, match="--minutes"):
        run_config.validate(RunConfig(num_processes=2, minutes=5))
    with pytest.raises(ConfigError, match="needs CUDA"):
        launch.check(run_config.validate(RunConfig(num_processes=2, fsdp=True)), "cpu")
    with pytest.raises(ConfigError, match="accelerate config file"):
        run_config.validate(RunConfig(accelerate_config="/no/such/file.yaml"))


def test_launch_command_uses_accelerate_and_its_config(tmp_path):
    c = run_config.validate(RunConfig(num_processes=2))
    line = launch.command(c, tmp_path / "run", tmp_path, "cpu", resume=True)
    assert line[1:3] == ["-m", "accelerate.commands.launch"] and "--multi_gpu" in line
    assert line[line.index("--num_processes") + 1] == "2" and line[-1] == "--resume"
    yaml = tmp_path / "two-nodes.yaml"
    yaml.write_text("num_machines: 2\n", encoding="utf-8")
    c = run_config.validate(RunConfig(accelerate_config=str(yaml)))
    line = launch.command(c, tmp_path / "run", tmp_path, "cuda", resume=False)
    assert line[line.index("--config_file") + 1] == str(yaml)
    assert "--num_processes" not in line and "--multi_gpu" not in line  # the file decides
    assert json.dumps(line)  # plain strings, ready for subprocess


def test_processes_that_end_without_a_word_keep_their_folder_and_log(lm_text, ws, tmp_path, monkeypatch):
    import sys

    monkeypatch.setattr(launch, "command", lambda *a, **k: [sys.executable, "-c", "print('boom'); raise SystemExit(3)"])
    with pytest.raises(launch.ProcessesLost, match="exit code 3"):
        engine.train(_two(lm_text), root=ws, out=tmp_path / "lost")
    assert "boom" in (tmp_path / "lost" / launch.LOG).read_text()
    time.sleep(0.5)
    assert not [t for t in threading.enumerate() if t.name == "studio-relay"]  # nothing left waiting to accept


def test_a_second_machine_may_join_the_run_folder_the_first_began(tmp_path):
    yaml = tmp_path / "two-nodes.yaml"
    yaml.write_text("num_machines: 2\n", encoding="utf-8")
    c = run_config.validate(RunConfig(accelerate_config=str(yaml)))
    out = tmp_path / "run"
    out.mkdir()
    (out / layout.CONFIG_FILE).write_text(run_config.dumps(c), encoding="utf-8")
    assert planning.joins(c, out)
    assert not planning.joins(dataclasses.replace(c, lr=0.5), out)  # another run's folder stays refused
    assert not planning.joins(dataclasses.replace(c, accelerate_config=""), out)
