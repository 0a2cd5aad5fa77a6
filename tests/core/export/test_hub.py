"""`--format hub` against a Hub that runs here (tests.hub_server): the model folder arrives whole, in a private
repository unless asked otherwise, with the token from HF_TOKEN; a refused token and an unreachable Hub are
sentences."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load

from studio.cli import main
from tests import hub_server


@pytest.fixture
def online(monkeypatch):
    return lambda hub, token: hub_server.point_client(monkeypatch, hub, token)


def test_a_model_is_pushed_whole_to_a_private_repository(chat_model, ws, online, capsys):
    with hub_server.running(token="hf_secret") as hub:
        online(hub, "hf_secret")
        capsys.readouterr()
        assert main(["export", "--model", str(chat_model), "--format", "hub", "--out", "me/tiny-chat"]) == 0
        captured = capsys.readouterr()
        repo = hub.repos["me/tiny-chat"]
        assert repo.private and len(repo.commits) == 1
        assert {"config.json", "model.safetensors", "tokenizer.json", "chat_template.jinja", "README.md"} <= set(repo.files)
        pushed, source = load(repo.files["model.safetensors"]), load((chat_model / "model.safetensors").read_bytes())
        assert pushed.keys() == source.keys() and all(torch.equal(pushed[k], source[k]) for k in source)
        assert "(private)" in captured.err and captured.out.strip() == f"{hub.endpoint}/me/tiny-chat"

        assert main(["export", "--model", str(chat_model), "--format", "hub", "--out", "me/open", "--public"]) == 0
        assert not hub.repos["me/open"].private


def test_a_refused_token_is_a_sentence(chat_model, ws, online, capsys):
    with hub_server.running(token="hf_secret") as hub:
        online(hub, "hf_wrong")
        assert main(["export", "--model", str(chat_model), "--format", "hub", "--out", "me/x"]) == 2
        err = capsys.readouterr().err
        assert "The Hub refused the upload to me/x (401): set HF_TOKEN" in err and "Traceback" not in err
        assert hub.repos == {}


def test_an_unreachable_hub_is_said_before_anything_is_done(chat_model, ws, capsys):
    assert main(["export", "--model", str(chat_model), "--format", "hub", "--out", "me/x"]) == 2  # HF_HUB_OFFLINE=1
    err = capsys.readouterr().err
    assert "cannot be reached from here" in err and "export with --format hf now" in err
