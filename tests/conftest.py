"""Shared fixtures: a workspace in a temp dir, tiny corpora, and tiny trained runs reused across tests.

HF_HUB_OFFLINE is set for every test: no test may need the network.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import hub_server, plugin
from tests.helpers import (PROBE, TINY_CLS, TINY_LM, TINY_MLM, TINY_NSP, TINY_QA, TINY_SUM, TINY_TAG, labelled,
                            lm_lines, pairs, questions, stories, tagged, train_cli, write_chat_model)


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def workspace_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("workspace")


@pytest.fixture
def ws(workspace_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("STUDIO_WORKSPACE", str(workspace_dir))
    return workspace_dir


@pytest.fixture
def hf_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A Hugging Face cache and token store of the test's own."""
    import huggingface_hub.constants as constants

    root = tmp_path / "hf" / "hub"
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(root))
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "hf" / "token"))
    monkeypatch.setattr(constants, "HF_STORED_TOKENS_PATH", str(tmp_path / "hf" / "stored_tokens"))
    return root


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch, hf_cache: Path, ws: Path) -> Iterator[hub_server.Hub]:
    """A Hub running here (its token hub_server.TOKEN), the client pointed at it without a token."""
    with hub_server.running(token=hub_server.TOKEN) as running:
        hub_server.point_client(monkeypatch, running)
        yield running


@pytest.fixture(scope="session")
def lm_text(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "code.txt"
    path.write_text("\n".join(lm_lines(600)) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def pairs_jsonl(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "pairs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in pairs(300)), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def labelled_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A `text,label` CSV, as a person would bring for classification."""
    path = tmp_path_factory.mktemp("data") / "topics.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=["text", "label"])
        writer.writeheader()
        writer.writerows(labelled(300))
    return path


@pytest.fixture(scope="session")
def tagged_jsonl(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Rows of `tokens` and `tags` lists, shaped like CoNLL-2003 in `datasets`."""
    path = tmp_path_factory.mktemp("data") / "people.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in tagged(300)), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def lm_run(workspace_dir: Path, lm_text: Path) -> Path:
    out = workspace_dir / "runs" / "lm-run"
    assert train_cli(workspace_dir, out, lm_text, TINY_LM + PROBE) == 0
    return out


@pytest.fixture(scope="session")
def sum_run(workspace_dir: Path, pairs_jsonl: Path) -> Path:
    out = workspace_dir / "runs" / "sum-run"
    assert train_cli(workspace_dir, out, pairs_jsonl, TINY_SUM + PROBE) == 0
    return out


@pytest.fixture(scope="session")
def cls_run(workspace_dir: Path, labelled_csv: Path) -> Path:
    out = workspace_dir / "runs" / "cls-run"
    assert train_cli(workspace_dir, out, labelled_csv, TINY_CLS + PROBE) == 0
    return out


@pytest.fixture(scope="session")
def mlm_run(workspace_dir: Path, lm_text: Path) -> Path:
    out = workspace_dir / "runs" / "mlm-run"
    assert train_cli(workspace_dir, out, lm_text, TINY_MLM + PROBE) == 0
    return out


@pytest.fixture(scope="session")
def stories_jsonl(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "stories.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in stories(120)), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def nsp_run(workspace_dir: Path, stories_jsonl: Path) -> Path:
    out = workspace_dir / "runs" / "nsp-run"
    assert train_cli(workspace_dir, out, stories_jsonl, TINY_NSP) == 0
    return out


@pytest.fixture(scope="session")
def questions_jsonl(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "questions.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in questions(300)), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def qa_run(workspace_dir: Path, questions_jsonl: Path) -> Path:
    out = workspace_dir / "runs" / "qa-run"
    assert train_cli(workspace_dir, out, questions_jsonl, TINY_QA) == 0
    return out


@pytest.fixture(scope="session")
def tag_run(workspace_dir: Path, tagged_jsonl: Path) -> Path:
    out = workspace_dir / "runs" / "tag-run"
    assert train_cli(workspace_dir, out, tagged_jsonl, TINY_TAG) == 0
    return out


@pytest.fixture(scope="session")
def chat_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random Llama whose tokenizer carries ChatML, saved as a model folder (not a run), as an
    instruct checkpoint comes."""
    folder = tmp_path_factory.mktemp("chat-model")
    write_chat_model(folder)
    return folder


@pytest.fixture
def topic_plugin(tmp_path: Path) -> None:
    """The topic task of tests.plugin installed, as a package installs a task, for one test."""
    with plugin.installed(tmp_path / "site-packages"):
        yield


@pytest.fixture(scope="session")
def topic_run(tmp_path_factory: pytest.TempPathFactory, labelled_csv: Path) -> Path:
    """A run of the plug-in topic task, in a workspace of its own (the other tests' lists stay as they are)."""
    workspace = tmp_path_factory.mktemp("topic-workspace")
    out = workspace / "runs" / "topic-run"
    with plugin.installed(tmp_path_factory.mktemp("site-packages")):
        assert train_cli(workspace, out, labelled_csv, ["--task", "topic", *TINY_CLS[2:], "--topic-words", "4"]) == 0
    return out
