"""The Playground's history exported as text or JSON, and refused in a sentence when it cannot be."""

from __future__ import annotations

import json

import pytest

from studio.core.errors import ConfigError
from studio.core.playground.transcript import Entry, Output, export


def _entry() -> Entry:
    return Entry(mode="lm", prompt="def add(a, b):", settings={"temperature": 0.8},
                 outputs=[Output("lm-run", " return a + b", 5, 0.1, 50.0, 0.02, "length")], time=0.0)


def test_json_and_text_exports(tmp_path):
    export([_entry()], tmp_path / "history.json")
    saved = json.loads((tmp_path / "history.json").read_text(encoding="utf-8"))
    assert saved[0]["outputs"][0]["text"] == " return a + b" and saved[0]["settings"] == {"temperature": 0.8}
    export([_entry()], tmp_path / "history.md")
    text = (tmp_path / "history.md").read_text(encoding="utf-8")
    assert "Prompt:\ndef add(a, b):" in text and "lm-run (5 tokens, 50.0 tokens/s, length):" in text


def test_titles_are_one_line_and_cut():
    long = Entry(mode="lm", prompt="word " * 40, settings={})
    assert len(long.title(20)) == 20 and long.title(20).endswith("…") and "\n" not in long.title()
    assert Entry(mode="lm", prompt="  ", settings={}).title() == "(empty prompt)"


def test_nothing_to_export_or_no_such_folder_is_a_sentence(tmp_path):
    with pytest.raises(ConfigError, match="nothing to export"):
        export([], tmp_path / "x.json")
    with pytest.raises(ConfigError, match="does not exist"):
        export([_entry()], tmp_path / "missing" / "x.json")
