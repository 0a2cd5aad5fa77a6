"""A path a writer offers to replace is refused when it is, holds or lies in a run, the model being read or the
workspace; an earlier export, a new path and an empty folder are not."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.core.errors import ConfigError
from studio.core.runs import guard


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A workspace of the test's own: these tests make runs in it."""
    folder = tmp_path / "home" / "workspace"
    folder.mkdir(parents=True)
    monkeypatch.setenv("STUDIO_WORKSPACE", str(folder))
    return folder


def _run(folder: Path) -> Path:
    (folder / "model").mkdir(parents=True)
    (folder / "model" / "config.json").write_text("{}")
    (folder / "config.toml").write_text('[run]\ntask = "lm"\n')
    (folder / "metrics.sqlite").write_bytes(b"")
    return folder


@pytest.mark.parametrize(("where", "words"), [
    ("runs/r1", "is the run folder r1"),
    ("runs/r1/model", "is part of the run folder r1"),
    ("runs", "holds the Studio run r1"),
    (".", "is Studio's workspace"),
    ("..", "holds Studio's workspace"),
    ("model-in-use", "is the model being read"),
    ("holder", "holds the model being read"),
])
def test_work_is_never_replaced(where, words, ws, tmp_path):
    _run(ws / "runs" / "r1")
    (tmp_path / "holder" / "model-in-use").mkdir(parents=True)
    (tmp_path / "holder" / "model-in-use" / "config.json").write_text("{}")
    base = {"model-in-use": tmp_path / "holder" / "model-in-use", "holder": tmp_path / "holder"}
    target = base.get(where, ws / where)
    with pytest.raises(ConfigError, match=words):
        guard.check_replaceable(target, reading=[str(tmp_path / "holder" / "model-in-use")])


def test_a_run_outside_the_workspace_is_found_by_its_files(ws, tmp_path):
    _run(tmp_path / "elsewhere" / "deep" / "r2")
    with pytest.raises(ConfigError, match="holds the Studio run r2"):
        guard.check_replaceable(tmp_path / "elsewhere")


def test_an_earlier_export_a_new_path_and_an_empty_folder_may_be_replaced(ws, tmp_path):
    export = tmp_path / "exported"
    export.mkdir()
    (export / "config.json").write_text("{}")
    (export / "model.safetensors").write_bytes(b"x")
    (tmp_path / "empty").mkdir()
    (tmp_path / "config.toml").write_text("[tool.other]\n")  # another program's config above is not a run
    for path in (export, tmp_path / "new", tmp_path / "empty"):
        guard.check_replaceable(path, reading=[str(tmp_path / "source")])


def test_a_folder_too_large_to_check_is_not_replaced(ws, tmp_path, monkeypatch):
    monkeypatch.setattr(guard, "_MOST_ENTRIES", 3)
    for i in range(5):
        (tmp_path / "big" / str(i)).mkdir(parents=True)
    with pytest.raises(ConfigError, match="it is not an earlier export"):
        guard.check_replaceable(tmp_path / "big")
