"""Summarization inputs: sources and targets through the template, truncated with `</s>` kept."""

from __future__ import annotations

import json

from studio.core.data import sources
from studio.core.data.tokenizer import train_bpe
from studio.core.tasks.summarize import TASK
from studio.core.training.config import RunConfig


def test_sources_and_targets_are_framed_and_truncated(tmp_path):
    rows = [{"source": "word " * (i + 1), "target": "sum " * (i + 1)} for i in range(20)]
    (tmp_path / "p.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    ds = sources.load(str(tmp_path / "p.jsonl"), tmp_path / "cache")
    tok = train_bpe([r["source"] + r["target"] for r in rows], 270, family="bart")
    out, stats = TASK.encode(ds, tok, {"source": "source", "target": "target"},
                             RunConfig(task="summarize", seq_len=6, target_len=4), ordered=False)
    assert max(len(x) for x in out["input_ids"]) == 6 and max(len(x) for x in out["labels"]) == 4
    for ids in list(out["input_ids"]) + list(out["labels"]):
        assert ids[0] == tok.bos_token_id and ids[-1] == tok.eos_token_id  # <s> x </s>, as real BART
    assert 0 < stats["source"]["truncated_share"] < 1 and stats["target"]["truncated_share"] > 0
    assert out[0]["input_ids"] == tok(rows[0]["source"])["input_ids"]
