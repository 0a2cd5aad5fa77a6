"""The models on this machine beside the cache: those in folders the person added (model folders and GGUF files),
kept in the workspace; a folder that is not one is a sentence."""

from __future__ import annotations

import pytest

from studio.core.errors import ConfigError
from studio.core.hub import local


def test_added_folders_list_their_models_and_can_be_taken_away(tmp_path, monkeypatch, hf_cache, chat_model):
    monkeypatch.setenv("STUDIO_WORKSPACE", str(tmp_path / "workspace"))
    mine = tmp_path / "my-models"
    (mine / "tuned").mkdir(parents=True)
    (mine / "tuned" / "config.json").write_text("{}")
    (mine / "tuned" / "model.safetensors").write_bytes(b"w" * 1000)
    (mine / "notes").mkdir()
    (mine / "small.gguf").write_bytes(b"g" * 300)
    assert local.in_folders() == []
    local.add_folder(mine)
    local.add_folder(mine)  # once is enough
    found = {m.id: m for m in local.everything()}
    assert set(found) == {str(mine / "tuned"), str(mine / "small.gguf")}
    assert found[str(mine / "tuned")].size_bytes == 1002 and not found[str(mine / "tuned")].in_cache
    assert set(found[str(mine / "small.gguf")].as_json()) == {"id", "size_bytes", "path", "last_used"}
    with pytest.raises(ConfigError, match="not a folder"):
        local.add_folder(mine / "small.gguf")
    local.remove_folder(mine.resolve())
    assert local.in_folders() == []
