"""Built-in samples: made on this machine from the standard library, once, deterministically."""

from __future__ import annotations

import collections
import json

import pytest

from studio.core.data import samples
from studio.core.errors import DataError


def test_python_code_sample_is_built_once_and_deterministic(tmp_path):
    first = samples.sample_path("sample:python-code", tmp_path / "c1")
    second = samples.sample_path("sample:python-code", tmp_path / "c2")
    assert first.read_bytes() == second.read_bytes()
    mtime = first.stat().st_mtime_ns
    assert samples.sample_path("sample:python-code", tmp_path / "c1").stat().st_mtime_ns == mtime
    rows = [json.loads(line) for line in first.open()]
    assert len(rows) > 100 and sum(len(r["text"]) for r in rows) > 1_000_000
    # Generated codec and case tables teach a model to write tables; they stay out.
    assert not any("BOX DRAWINGS" in r["text"] or "decoding_table" in r["text"] for r in rows)


def test_generated_tables_are_told_from_modules_with_a_table(tmp_path):
    table = "".join(f"    0x{i:04x}: 0x{i + 1:04x},  # LATIN LETTER {i}\n" for i in range(200))
    assert samples._is_generated_table("CASES = {\n" + table + "}\n")
    module = "".join(f"def f{i}(x):\n    y = x + {i}\n    return y\n\n" for i in range(60))
    assert not samples._is_generated_table(module + "TABLE = {\n" + table[:1500] + "}\n")


def test_docstring_pairs_drop_the_docstring(tmp_path, monkeypatch):
    monkeypatch.setattr(samples, "_MAX_PAIRS", 200)
    path = samples.sample_path("sample:docstrings", tmp_path)
    rows = [json.loads(line) for line in path.open()]
    assert len(rows) == 200
    for row in rows[:50]:
        assert "def " in row["source"] and row["target"] not in row["source"]
        assert len(row["target"].split()) >= 3


def test_a_summary_ends_before_a_doctest():
    doc = "Return server capabilities as a dictionary >>> c=poplib.POP3('localhost') >>> c.capa()\n\nMore."
    assert samples.first_sentence(doc) == "Return server capabilities as a dictionary"
    assert samples.first_sentence(">>> import io >>> read(io.BytesIO(b''))") == ""  # no prose: left out


def test_package_sample_has_balanced_classes_of_real_functions(tmp_path):
    path = samples.sample_path("sample:packages", tmp_path)
    rows = [json.loads(line) for line in path.open()]
    counts = collections.Counter(r["label"] for r in rows)
    assert set(counts) == set(samples._PACKAGES)
    assert max(counts.values()) <= samples._PER_PACKAGE and min(counts.values()) >= 100
    assert all(r["text"].lstrip().startswith(("def ", "async def ")) for r in rows)
    assert path.read_bytes() == samples.sample_path("sample:packages", tmp_path / "again").read_bytes()


def test_unknown_sample_names_the_known_ones():
    with pytest.raises(DataError, match="sample:packages"):
        samples.check("sample:nope")

