"""Language modelling inputs: blocks of equal length with `</s>` between documents, statistics, the
cache, lines of a text file kept in order, and a stop that reaches the tokenizer."""

from __future__ import annotations

import pytest

from studio.core.control import Control
from studio.core.data import sources
from studio.core.data.tokenizer import train_bpe
from studio.core.errors import Cancelled
from studio.core.tasks.lm import blocks_of
from tests.core.data.test_sources import write_all_formats


def test_blocks_and_stats(tmp_path):
    write_all_formats(tmp_path)
    ds = sources.load(str(tmp_path / "a.jsonl"), tmp_path / "cache")
    texts = list(ds["text"])
    tok = train_bpe(texts * 5, 300)
    blocks, stats = blocks_of(ds, tok, "text", 8)
    assert all(len(b) == 8 for b in blocks["input_ids"])
    total = sum(len(tok(t)["input_ids"]) + 1 for t in texts)  # each document ends in </s>
    assert stats.tokens == total and len(blocks) == total // 8
    assert stats.rows == 30 and stats.characters == sum(len(t) for t in texts)
    assert sum(stats.histogram_counts) == 30 and len(stats.histogram_edges) == 21
    again, _ = blocks_of(ds, tok, "text", 8)
    assert again.cache_files == blocks.cache_files  # the second time comes from the cache


def test_text_file_lines_are_one_text(tmp_path):
    lines = [f"line {i}" for i in range(50)]
    (tmp_path / "t.txt").write_text("\n".join(lines) + "\n")
    ds = sources.load(str(tmp_path / "t.txt"), tmp_path / "cache")
    train, _ = sources.split(ds, 0.1, seed=1, shuffle=False)
    tok = train_bpe(lines * 3, 280)
    blocks, _ = blocks_of(train, tok, "text", 4, ordered=True)
    text = tok.decode([i for block in blocks["input_ids"] for i in block])
    assert text.startswith("line 0\nline 1\nline 2\n") and tok.eos_token not in text


def test_tokenization_can_be_stopped(tmp_path):
    write_all_formats(tmp_path)
    ds = sources.load(str(tmp_path / "a.txt"), tmp_path / "cache")
    tok = train_bpe(list(ds["text"]), 270)
    control = Control()
    control.stop()
    with pytest.raises(Cancelled):
        blocks_of(ds, tok, "text", 4, control=control)
    with pytest.raises(Cancelled):
        train_bpe(list(ds["text"]), 300, control=control)
