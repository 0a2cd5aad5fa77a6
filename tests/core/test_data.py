"""Loading every supported format, folder rules, column mapping, splits and tokenization statistics."""

from __future__ import annotations

import json

import pytest

from studio.core.data import sources as data
from studio.core.data import encoding as preprocess
from studio.core.data import samples
from studio.core.control import Control
from studio.core.errors import Cancelled, DataError
from studio.core.data.tokenizer import train_bpe


def _write_all(tmp):
    rows = [{"text": f"line {i} of text", "n": i} for i in range(30)]
    (tmp / "a.txt").write_text("\n".join(r["text"] for r in rows) + "\n")
    (tmp / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp / "a.json").write_text(json.dumps(rows))
    (tmp / "a.csv").write_text("text,n\n" + "".join(f"{r['text']},{r['n']}\n" for r in rows))
    import datasets

    datasets.Dataset.from_list(rows).to_parquet(str(tmp / "a.parquet"))


@pytest.mark.parametrize("suffix", ["txt", "jsonl", "json", "csv", "parquet"])
def test_every_format_loads(suffix, tmp_path):
    _write_all(tmp_path)
    ds = data.load(str(tmp_path / f"a.{suffix}"), tmp_path / "cache")
    assert len(ds) == 30 and ds[3]["text"] == "line 3 of text"
    assert data.map_columns(ds, "lm", data.ColumnMap()).text == "text"


def test_folder_of_one_kind_loads_every_file(tmp_path):
    folder = tmp_path / "docs"
    (folder / "sub").mkdir(parents=True)
    (folder / "one.txt").write_text("a\nb\n")
    (folder / "sub" / "two.txt").write_text("c\n")
    (folder / ".hidden").mkdir()
    (folder / ".hidden" / "x.csv").write_text("q\n1\n")  # hidden folders are not mixed in
    assert sorted(data.load(str(folder), tmp_path / "cache")["text"]) == ["a", "b", "c"]


def test_column_mapping_for_summarization(tmp_path):
    (tmp_path / "p.jsonl").write_text("".join(json.dumps({"article": f"a{i}", "highlights": f"h{i}", "id": i}) + "\n"
                                              for i in range(5)))
    ds = data.load(str(tmp_path / "p.jsonl"), tmp_path / "cache")
    assert data.map_columns(ds, "summarize", data.ColumnMap()) == data.ColumnMap(source="article", target="highlights")
    with pytest.raises(DataError, match="does not hold text"):
        data.map_columns(ds, "summarize", data.ColumnMap(source="id", target="highlights"))
    with pytest.raises(DataError, match="both 'article'"):
        data.map_columns(ds, "summarize", data.ColumnMap(source="article", target="article"))


def test_split_is_deterministic_and_disjoint(tmp_path):
    _write_all(tmp_path)
    ds = data.load(str(tmp_path / "a.jsonl"), tmp_path / "cache")
    t1, v1 = data.split(ds, 0.2, seed=5)
    t2, v2 = data.split(ds, 0.2, seed=5)
    assert v1["n"] == v2["n"] and len(v1) == 6 and not set(v1["n"]) & set(t1["n"])
    assert data.split(ds, 0.2, seed=6)[1]["n"] != v1["n"]


def test_lm_blocks_and_stats(tmp_path):
    _write_all(tmp_path)
    ds = data.load(str(tmp_path / "a.txt"), tmp_path / "cache")
    texts = list(ds["text"])
    tok = train_bpe(texts * 5, 300)
    blocks, stats = preprocess.prepare_lm(ds, tok, "text", 8)
    assert all(len(b) == 8 for b in blocks["input_ids"])
    total = sum(len(tok(t, add_special_tokens=False)["input_ids"]) + 1 for t in texts)
    assert stats.tokens == total and len(blocks) == total // 8
    assert stats.rows == 30 and stats.characters == sum(len(t) for t in texts)
    assert sum(stats.histogram_counts) == 30 and len(stats.histogram_edges) == 21
    again, _ = preprocess.prepare_lm(ds, tok, "text", 8)
    assert again.cache_files == blocks.cache_files  # the second time comes from the cache


def test_seq2seq_truncates_and_ends_with_eos(tmp_path):
    rows = [{"source": "word " * (i + 1), "target": "sum " * (i + 1)} for i in range(20)]
    (tmp_path / "p.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    ds = data.load(str(tmp_path / "p.jsonl"), tmp_path / "cache")
    tok = train_bpe([r["source"] + r["target"] for r in rows], 270)
    out, src, tgt = preprocess.prepare_seq2seq(ds, tok, "source", "target", 6, 4)
    assert max(len(x) for x in out["input_ids"]) == 6 and max(len(x) for x in out["labels"]) == 4
    assert all(x[-1] == tok.eos_token_id for x in list(out["input_ids"]) + list(out["labels"]))
    assert 0 < src.truncated_share < 1 and tgt.truncated_share > 0


def test_tokenization_can_be_stopped(tmp_path):
    _write_all(tmp_path)
    ds = data.load(str(tmp_path / "a.txt"), tmp_path / "cache")
    tok = train_bpe(list(ds["text"]), 270)
    control = Control()
    control.stop()
    with pytest.raises(Cancelled):
        preprocess.prepare_lm(ds, tok, "text", 4, control=control)
    with pytest.raises(Cancelled):
        train_bpe(list(ds["text"]), 300, control=control)


def test_python_code_sample_is_built_once_and_deterministic(tmp_path):
    first = samples.sample_path("sample:python-code", tmp_path / "c1")
    second = samples.sample_path("sample:python-code", tmp_path / "c2")
    assert first.read_bytes() == second.read_bytes()
    mtime = first.stat().st_mtime_ns
    assert samples.sample_path("sample:python-code", tmp_path / "c1").stat().st_mtime_ns == mtime
    rows = [json.loads(line) for line in first.open()]
    assert len(rows) > 100 and sum(len(r["text"]) for r in rows) > 1_000_000


def test_docstring_pairs_drop_the_docstring(tmp_path, monkeypatch):
    monkeypatch.setattr(samples, "_MAX_PAIRS", 200)
    path = samples.sample_path("sample:docstrings", tmp_path)
    rows = [json.loads(line) for line in path.open()]
    assert len(rows) == 200
    for row in rows[:50]:
        assert "def " in row["source"] and row["target"] not in row["source"]
        assert len(row["target"].split()) >= 3


def test_text_file_lines_keep_their_order_and_newlines(tmp_path):
    lines = [f"line {i}" for i in range(50)]
    (tmp_path / "t.txt").write_text("\n".join(lines) + "\n")
    ds = data.load(str(tmp_path / "t.txt"), tmp_path / "cache")
    train, val = data.split(ds, 0.1, seed=1, shuffle=False)
    assert list(val["text"]) == lines[-5:]
    tok = train_bpe(lines * 3, 280)
    blocks, _ = preprocess.prepare_lm(train, tok, "text", 4, lines=True)
    text = tok.decode([i for block in blocks["input_ids"] for i in block])
    assert text.startswith("line 0\nline 1\nline 2\n") and tok.eos_token not in text
