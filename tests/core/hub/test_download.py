"""Downloads from a Hub that runs here into a cache of the test's own: progress, cancel and resume, a dropped
connection, pause, gated models, bad ids and revisions, a full disk, a damaged file, and a model loaded from the
cache with the network gone."""

from __future__ import annotations

import threading

import pytest

from studio.core.control import Control
from studio.core.errors import Cancelled, ConfigError, HubError
from studio.core.hub import download as downloads
from studio.core.hub import local, reach
from studio.core.system import disk
from tests.hub_server import TOKEN, model_files, weights

BIG = 3 * 2**20 + 123


def _big_repo(hub):
    return hub.add("me/big", {"config.json": b'{"model_type": "gpt2"}', "README.md": b"# big\n",
                              "model.safetensors": weights(BIG)}, pause_s=0.005)


def test_a_model_downloads_with_progress_into_the_shared_cache_and_loads_with_the_network_gone(
        hub, chat_model, hf_cache, monkeypatch):
    files = model_files(chat_model)
    repo = hub.add("me/chat", files)
    planned = downloads.plan("me/chat")
    assert {f.name for f in planned.files} == set(files) and planned.have == 0
    seen: list[downloads.Progress] = []
    folder = downloads.download(planned, seen.append)
    assert folder == hf_cache / "models--me--chat" / "snapshots" / repo.sha
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == files
    assert (hf_cache / "models--me--chat" / "refs" / "main").read_text() == repo.sha
    assert [p.done for p in seen] == sorted(p.done for p in seen)  # never goes back
    assert seen[-1].done == seen[-1].total == planned.total and seen[-1].files_done == len(files)
    assert "of" in downloads.as_text(seen[0]) and downloads.as_text(seen[-1])
    # again: nothing left to fetch
    assert downloads.plan("me/chat").have == planned.total

    # the network gone: transformers reads what Studio fetched, by its hub id
    hub.server.shutdown()
    monkeypatch.setattr(reach, "_last", None)
    from studio.core.modeling import loading

    model, _ = loading.load_pretrained("me/chat", "AutoModelForCausalLM")
    assert model.config.model_type == "llama"
    listed = {m.id: m for m in local.cached()}
    assert listed["me/chat"].size_bytes == planned.total and listed["me/chat"].path == str(folder)
    assert local.remove("me/chat") == planned.total
    assert not (hf_cache / "models--me--chat").exists() and local.cached() == []
    with pytest.raises(HubError, match="not in the model cache"):
        local.remove("me/chat")


def test_a_cancelled_download_keeps_its_part_and_the_next_one_continues_from_it(hub, hf_cache):
    data = _big_repo(hub).files["model.safetensors"]
    control = Control()

    def stop_after_a_megabyte(p):
        if p.file == "model.safetensors" and p.file_done >= 2**20:
            control.stop()

    with pytest.raises(Cancelled, match="kept"):
        downloads.download(downloads.plan("me/big"), stop_after_a_megabyte, control)
    partial = next((hf_cache / "models--me--big" / "blobs").glob("*.incomplete"))
    kept = partial.stat().st_size
    assert 2**20 <= kept < BIG
    assert local.cached()[0].partial_bytes == kept  # the cache view shows the part-way download
    again = downloads.plan("me/big")
    assert again.have >= kept
    folder = downloads.download(again)
    assert (folder / "model.safetensors").read_bytes() == data
    assert hub.ranges[-1] == ("model.safetensors", kept)  # asked for the rest only
    assert not list((hf_cache / "models--me--big" / "blobs").glob("*.incomplete"))


def test_a_dropped_connection_is_a_sentence_and_its_part_is_kept_for_the_next_try(hub, hf_cache):
    repo = _big_repo(hub)
    repo.drop_after["model.safetensors"] = 700_000
    with pytest.raises(HubError, match="connection to the Hub broke.*kept"):
        downloads.download(downloads.plan("me/big"), retries=0)
    partial = next((hf_cache / "models--me--big" / "blobs").glob("*.incomplete"))
    assert 0 < partial.stat().st_size <= 700_000
    folder = downloads.download(downloads.plan("me/big"))
    assert (folder / "model.safetensors").read_bytes() == repo.files["model.safetensors"]
    # by default a drop is tried again at once, from where it stopped
    repo.drop_after["model.safetensors"] = 500_000
    local.remove("me/big")
    folder = downloads.download(downloads.plan("me/big"))
    assert (folder / "model.safetensors").read_bytes() == repo.files["model.safetensors"]
    assert hub.ranges[-2:] == [("model.safetensors", 0), ("model.safetensors", 500_000)]


def test_a_paused_download_waits_and_goes_on_where_it_was(hub, hf_cache):
    data = _big_repo(hub).files["model.safetensors"]
    control = Control()
    stages: list[str] = []

    def pause_once(p):
        stages.append(p.stage)
        if p.file_done >= 2**20 and "paused" not in stages and not control.paused:
            control.pause()
            threading.Timer(0.3, control.resume).start()

    folder = downloads.download(downloads.plan("me/big"), pause_once, control)
    assert "paused" in stages and (folder / "model.safetensors").read_bytes() == data
    assert hub.ranges[-1][1] >= 2**20  # the connection was closed while paused, and a range asked for the rest


def test_a_gated_model_needs_the_token_and_is_served_with_it(hub, monkeypatch, hf_cache):
    hub.add("me/gated", {"config.json": b'{"model_type": "gpt2"}'}, gated=True)
    with pytest.raises(HubError, match="gated.*accept its terms"):
        downloads.download(downloads.plan("me/gated"))
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    assert (downloads.download(downloads.plan("me/gated")) / "config.json").is_file()


def test_bad_ids_revisions_globs_a_full_disk_and_a_damaged_file_are_sentences(hub, monkeypatch, hf_cache):
    repo = _big_repo(hub)
    with pytest.raises(HubError, match="no model 'me/none'"):
        downloads.plan("me/none")
    with pytest.raises(HubError, match="no revision 'v9'"):
        downloads.plan("me/big", revision="v9")
    with pytest.raises(ConfigError, match="matches none"):
        downloads.plan("me/big", include=["*.gguf"])
    assert [f.name for f in downloads.plan("me/big", include=["*.json"]).files] == ["config.json"]

    class Full:
        free = 1000

    with monkeypatch.context() as patched:
        patched.setattr(disk.shutil, "disk_usage", lambda path: Full)
        with pytest.raises(HubError, match="free.*needs"):
            downloads.plan("me/big")
    # a part as long as the file, with other bytes in it: caught by the hash, removed, and a sentence
    planned = downloads.plan("me/big", include=["model.safetensors"])
    blobs = hf_cache / "models--me--big" / "blobs"
    blobs.mkdir(parents=True)
    (blobs / f"{planned.etags['model.safetensors']}.incomplete").write_bytes(bytes(BIG))
    with pytest.raises(HubError, match="arrived damaged"):
        downloads.download(planned)
    assert not list(blobs.glob("*.incomplete"))
    assert (downloads.download(planned) / "model.safetensors").read_bytes() == repo.files["model.safetensors"]


def test_offline_a_download_says_so(monkeypatch, hf_cache, ws):
    with pytest.raises(HubError, match="cannot be reached"):
        downloads.plan("me/anything")


def test_training_a_hub_id_downloads_it_first_with_progress(hub, chat_model, hf_cache, tmp_path, capsys):
    from studio.cli import main

    hub.add("me/chat", model_files(chat_model))
    data = tmp_path / "chat.jsonl"
    data.write_text("".join('{"messages": [{"role": "user", "content": "alpha beta"}, '
                            '{"role": "assistant", "content": "gamma delta"}]}\n' for _ in range(40)))
    assert main(["train", "--task", "chat", "--model", "me/chat", "--data", str(data), "--out", str(tmp_path / "run"),
                 "--seq-len", "32", "--batch-size", "4", "--max-steps", "2", "--eval-every", "2", "--save-every", "2",
                 "--device", "cpu"]) == 0
    assert "Downloading me/chat..." in capsys.readouterr().err
    assert (hf_cache / "models--me--chat" / "refs" / "main").is_file()
