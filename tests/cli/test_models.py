"""`studio models search|info|download|list|remove` against a Hub that runs here: the JSON shapes of the
contract, progress on stderr, and every bad input a sentence with exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.cli import main
from studio.core.system import disk
from tests.hub_server import TOKEN, model_files, weights


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["models", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_search_info_download_list_and_remove_keep_their_shapes(hub, chat_model, hf_cache, capsys):
    hub.add("me/chat", model_files(chat_model), downloads=12, likes=2)
    hub.add("me/encoder", {"config.json": b'{"model_type": "bert"}'}, pipeline_tag="fill-mask", downloads=5)
    code, out, _ = _run(capsys, "search", "me/", "--json")
    assert code == 0
    found = json.loads(out)
    assert [f["id"] for f in found] == ["me/chat", "me/encoder"]
    assert all(set(f) == {"id", "downloads", "likes", "updated", "gated"} for f in found)
    assert [f["id"] for f in json.loads(_run(capsys, "search", "me/", "--task", "chat", "--json")[1])] == ["me/chat"]
    code, out, _ = _run(capsys, "search", "me/", "--limit", "1")
    assert code == 0 and "me/chat" in out and "DOWNLOADS" in out and "me/encoder" not in out

    code, out, _ = _run(capsys, "info", "me/chat", "--json")
    info = json.loads(out)
    assert code == 0 and set(info) == {"id", "parameters", "files", "memory", "gated", "license"}
    assert set(info["memory"]) == {"run_bytes", "train_bytes", "device"} and info["memory"]["train_bytes"] > 0
    assert info["parameters"] > 0 and {"name", "size"} == set(info["files"][0])
    code, out, _ = _run(capsys, "info", "me/chat", "--task", "chat")
    assert code == 0 and "to train" in out and "For chat:" in out

    code, out, err = _run(capsys, "download", "me/chat")
    assert code == 0 and "complete" in err
    folder = out.strip()
    assert sorted(p.name for p in (hf_cache / "models--me--chat" / "snapshots").glob("*/*")) == sorted(
        model_files(chat_model))
    code, out, _ = _run(capsys, "list", "--json")
    listed = json.loads(out)
    assert code == 0 and [m["id"] for m in listed] == ["me/chat"] and listed[0]["path"] == folder
    assert set(listed[0]) == {"id", "size_bytes", "path", "last_used"}
    assert _run(capsys, "remove", "me/chat", "--yes")[0] == 0
    assert json.loads(_run(capsys, "list", "--json")[1]) == []


def test_progress_is_printed_on_stderr(hub, capsys):
    hub.add("me/big", {"config.json": b"{}", "model.safetensors": weights(3 * 2**20)}, pause_s=0.02)
    code, _, err = _run(capsys, "download", "me/big")
    assert code == 0 and "model.safetensors (2/2)" in err and "/s" in err


@pytest.mark.parametrize(("argv", "says"), [
    (["info", "me/none"], "no model 'me/none'"),
    (["download", "me/gated"], "gated"),
    (["download", "me/tiny", "--revision", "v9"], "no revision 'v9'"),
    (["download", "me/tiny", "--include", "*.gguf"], "matches none"),
    (["remove", "me/absent", "--yes"], "not in the model cache"),
    (["search", "x", "--limit", "0"], None),
])
def test_bad_input_is_a_sentence_and_exit_2(hub, capsys, argv, says):
    hub.add("me/tiny", {"config.json": b"{}"})
    hub.add("me/gated", {"config.json": b"{}"}, gated=True)
    if says is None:  # argparse's own refusal, in one sentence without the usage page
        code, _, err = _run(capsys, *argv)
        assert code == 2 and err.startswith("studio: argument --limit") and "usage:" not in err
        return
    code, _, err = _run(capsys, *argv)
    assert code == 2 and says in err and "Traceback" not in err


def test_offline_search_and_a_full_disk_are_sentences(hub, monkeypatch, capsys):
    hub.add("me/tiny", {"config.json": b"{}", "model.safetensors": weights(5000)})

    class Full:
        free = 10

    monkeypatch.setattr(disk.shutil, "disk_usage", lambda path: Full)
    code, _, err = _run(capsys, "download", "me/tiny")
    assert code == 2 and "free some space" in err
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    code, _, err = _run(capsys, "search", "tiny")
    assert code == 2 and "cannot be reached" in err and "studio models list" in err


def test_a_gated_model_downloads_with_the_token(hub, monkeypatch, capsys):
    hub.add("me/gated", {"config.json": b"{}"}, gated=True)
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    assert _run(capsys, "download", "me/gated")[0] == 0


def test_a_download_killed_mid_file_goes_on_from_its_part_in_the_next_process(hub, hf_cache, tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    data = weights(4 * 2**20)
    hub.add("me/big", {"config.json": b"{}", "model.safetensors": data}, pause_s=0.02)
    env = {**os.environ, "HF_ENDPOINT": hub.endpoint, "HF_HUB_CACHE": str(hf_cache), "HF_HUB_OFFLINE": "0"}
    command = [sys.executable, "-m", "studio", "models", "download", "me/big"]
    child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    blobs = hf_cache / "models--me--big" / "blobs"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and not any(p.stat().st_size > 2**20 for p in blobs.glob("*.incomplete")):
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)  # no handler runs: what is on disk is all that is left
    child.wait()
    kept = next(blobs.glob("*.incomplete")).stat().st_size
    assert 2**20 < kept < len(data)
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert (Path(done.stdout.strip()) / "model.safetensors").read_bytes() == data
    assert hub.ranges[-1] == ("model.safetensors", kept)
