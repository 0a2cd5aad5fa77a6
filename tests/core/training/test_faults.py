"""Faults while a run trains: a full disk, a kill while the model is written, a broken checkpoint, a finished run
resumed, two processes in one run folder. Nothing the person made is lost, and each is one sentence."""

from __future__ import annotations

import errno
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import transformers
from safetensors.torch import load_file

from studio.cli import main
from studio.core.runs import layout, lock, reader
from studio.core.system import disk

TINY = ["--vocab-size", "300", "--seq-len", "16", "--batch-size", "8", "--max-steps", "6", "--eval-every", "3",
        "--save-every", "3", "--device", "cpu"]


def _train(ws, out, data, *extra) -> int:
    return main(["--workspace", str(ws), "train", "--data", str(data), "--out", str(out), *TINY, *extra])


def _last_error(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err.strip().splitlines()[-1]


def test_a_full_disk_before_a_checkpoint_is_a_sentence_keeps_the_last_and_resumes(ws, lm_text, tmp_path, capsys,
                                                                                  monkeypatch):
    real = disk.shutil.disk_usage
    out = tmp_path / "run"

    def usage(path):  # room for the first checkpoint, none after it
        free = real(path).free if not layout.checkpoints(out) else 1000
        return type("Usage", (), {"free": free})()

    monkeypatch.setattr(disk.shutil, "disk_usage", usage)
    capsys.readouterr()
    assert _train(ws, out, lm_text) == 2
    said = _last_error(capsys)
    assert said.startswith(f"studio: The disk holding {out} is full: checkpoint 6 needs about ")
    assert said.endswith(f"checkpoint-3 is complete, so free some space and resume with `studio train --resume "
                         f"{out}`.")
    assert [s for s, _ in layout.checkpoints(out)] == [3] and not list((out / "checkpoints").glob(".*"))
    assert reader.read(out).status == "failed"
    monkeypatch.setattr(disk.shutil, "disk_usage", real)  # space freed
    assert main(["--workspace", str(ws), "train", "--resume", str(out)]) == 0
    assert reader.read(out).status == "completed" and (out / "model" / "config.json").is_file()


def test_a_write_that_runs_out_of_space_leaves_no_partial_checkpoint(ws, lm_text, tmp_path, capsys, monkeypatch):
    real = transformers.Trainer._save_optimizer_and_scheduler

    def fill_up(self, output_dir):
        if self.state.global_step == 6:
            (Path(output_dir) / "optimizer.pt").write_bytes(b"PK\x03\x04 half")  # half a file, then a full disk
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, output_dir)

    monkeypatch.setattr(transformers.Trainer, "_save_optimizer_and_scheduler", fill_up)
    out = tmp_path / "run"
    capsys.readouterr()
    assert _train(ws, out, lm_text) == 2
    assert _last_error(capsys) == (f"studio: The disk holding {out} is full: checkpoint 6 ran out of space while it "
                                   f"was written; nothing of it was kept; checkpoint-3 is complete, so free some space "
                                   f"and resume with `studio train --resume {out}`.")
    assert [p.name for p in (out / "checkpoints").iterdir()] == ["checkpoint-3"]


KILLED_WHILE_SAVING = textwrap.dedent("""
    import os, sys
    from pathlib import Path
    from studio.cli import main
    from studio.core.system import files
    real = files.move_into_place
    def killed(tmp, out):
        if out.name == "model":
            os._exit(9)
        real(tmp, out)
    files.move_into_place = killed
    main(sys.argv[1:])
""")


@pytest.mark.slow  # a real kill needs a fresh process: 8 s; the plan's half is in test_plan
def test_a_kill_while_the_model_is_written_is_finished_by_resume(ws, lm_text, tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["--workspace", str(ws), "train", "--data", str(lm_text), "--out", str(out), *TINY]
    done = subprocess.run([sys.executable, "-c", KILLED_WHILE_SAVING, *argv], capture_output=True, timeout=600, check=False)
    assert done.returncode == 9 and list(out.glob(".model.tmp*")) and not (out / "model").exists()
    capsys.readouterr()
    assert main(["--workspace", str(ws), "train", "--resume", str(out)]) == 0
    assert "writing the model from checkpoint 6" in capsys.readouterr().err
    assert not list(out.glob(".model.tmp*")) and reader.read(out).global_step == 6  # no step more was trained
    saved, checkpoint = load_file(out / "model" / "model.safetensors"), \
        load_file(out / "checkpoints" / "checkpoint-6" / "model.safetensors")
    assert saved.keys() == checkpoint.keys() and all((saved[k] == checkpoint[k]).all() for k in saved)
    assert main(["--workspace", str(ws), "train", "--resume", str(out)]) == 2  # and now it is finished


def test_a_broken_latest_checkpoint_is_set_aside_and_the_run_resumes_before_it(ws, lm_text, tmp_path, capsys):
    out = tmp_path / "run"
    assert _train(ws, out, lm_text, "--max-steps", "6") == 0
    optimizer = out / "checkpoints" / "checkpoint-6" / "optimizer.pt"
    optimizer.write_bytes(optimizer.read_bytes()[: optimizer.stat().st_size // 2])
    capsys.readouterr()
    assert main(["--workspace", str(ws), "train", "--resume", str(out), "--max-steps", "9"]) == 0
    err = capsys.readouterr().err
    assert "Checkpoint 6 is broken (optimizer.pt is cut short)" in err and "Resuming from step 3" in err
    assert (out / "checkpoints-broken" / "checkpoint-6" / "optimizer.pt").is_file()


def test_a_finished_run_without_checkpoints_is_never_retrained(ws, lm_text, tmp_path, capsys):
    out = tmp_path / "run"
    assert _train(ws, out, lm_text) == 0
    for _, path in layout.checkpoints(out):
        import shutil

        shutil.rmtree(path)
    model = (out / "model" / "model.safetensors").read_bytes()
    history = reader.read(out).history
    capsys.readouterr()
    assert main(["--workspace", str(ws), "train", "--resume", str(out), "--max-steps", "12"]) == 2
    assert "has finished and has no checkpoint to continue from" in _last_error(capsys)
    assert (out / "model" / "model.safetensors").read_bytes() == model and reader.read(out).history == history


@pytest.mark.parametrize("how", ["out", "resume"])
def test_a_run_folder_in_use_by_another_process_is_refused(how, ws, lm_text, tmp_path, capsys):
    out = tmp_path / "run"
    if how == "resume":
        assert _train(ws, out, lm_text, "--max-steps", "3") == 0
    with lock.held(out):  # as the process training it holds it
        capsys.readouterr()
        argv = ["train", "--resume", str(out), "--max-steps", "6"] if how == "resume" else \
            ["train", "--data", str(lm_text), "--out", str(out), *TINY]
        assert main(["--workspace", str(ws), *argv]) == 2
        import os

        assert _last_error(capsys) == (f"studio: 'run' is in use by process {os.getpid()}, which is training it; "
                                       "wait for it to finish or stop it, or train into another folder.")
    assert main(["--workspace", str(ws), "train", "--data", str(lm_text), "--out", str(out), *TINY]) == \
        (0 if how == "out" else 2)  # free again: an empty folder (its lock file aside) takes a new run
