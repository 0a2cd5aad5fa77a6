"""Whether the Hub can be reached, asked of a Hub that runs here (tests.hub_server), which also shows that
server speaks what the real client asks for reads: a model's info with its files, downloads (HEAD, then
GET), a gated model with and without a token, and the errors of an unknown model or file."""

from __future__ import annotations

import pytest

from studio.core.hub import reach
from tests import hub_server

FILES = {"config.json": b'{"model_type": "gpt2"}', "model.safetensors": bytes(range(256)) * 400}


def test_a_running_hub_is_reachable_and_an_offline_setting_is_obeyed(monkeypatch):
    with hub_server.running() as hub:
        hub_server.point_client(monkeypatch, hub)
        assert reach.reachable()
        monkeypatch.setenv("HF_HUB_OFFLINE", "1")
        assert not reach.reachable()
        monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr(reach, "_last", None)
    assert not reach.reachable()  # the server is gone


def test_the_local_hub_serves_the_real_client(monkeypatch, tmp_path):
    from huggingface_hub import HfApi, hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError, GatedRepoError, RepositoryNotFoundError

    with hub_server.running(token="hf_secret") as hub:
        hub.add("me/tiny", FILES, downloads=7)
        hub.add("me/gated", FILES, gated=True)
        hub_server.point_client(monkeypatch, hub)
        info = HfApi().model_info("me/tiny", files_metadata=True)
        assert {(s.rfilename, s.size) for s in info.siblings} == {(k, len(v)) for k, v in FILES.items()}
        assert [m.id for m in HfApi().list_models(search="tiny")] == ["me/tiny"]
        # a connection that drops part-way is tried again by the client (from the start: huggingface_hub 2.4 has
        # not counted the bytes h11 buffered when the connection went), and the file arrives whole
        hub.repos["me/tiny"].drop_after["model.safetensors"] = 30_000
        path = hf_hub_download("me/tiny", "model.safetensors", cache_dir=tmp_path)
        assert open(path, "rb").read() == FILES["model.safetensors"] and not hub.repos["me/tiny"].drop_after
        assert [r for r in hub.requests if r.startswith("GET /me/tiny")] == ["GET /me/tiny/resolve/main/model.safetensors"] * 2
        with pytest.raises(GatedRepoError):
            hf_hub_download("me/gated", "config.json", cache_dir=tmp_path, token=False)
        assert open(hf_hub_download("me/gated", "config.json", cache_dir=tmp_path, token="hf_secret"), "rb").read() \
            == FILES["config.json"]
        with pytest.raises(RepositoryNotFoundError):
            hf_hub_download("me/none", "config.json", cache_dir=tmp_path)
        with pytest.raises(EntryNotFoundError):
            hf_hub_download("me/tiny", "none.json", cache_dir=tmp_path)
