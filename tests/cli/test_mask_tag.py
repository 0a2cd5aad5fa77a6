"""`studio fill-mask`, `studio tag` and `studio evaluate` for the BERT-style tasks: their JSON contracts."""

from __future__ import annotations

import json

from studio.cli import main


def _json(capsys, argv: list[str]) -> dict:
    capsys.readouterr()
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_fill_mask_json_contract(mlm_run, capsys):
    out = _json(capsys, ["fill-mask", "--model", str(mlm_run), "--text", "def [MASK](x): return [MASK]",
                         "--top-k", "3", "--json"])
    assert list(out) == ["masks"] and len(out["masks"]) == 2
    for candidates in out["masks"]:
        assert len(candidates) == 3 and all(set(c) == {"token", "id", "score"} for c in candidates)
        scores = [c["score"] for c in candidates]
        assert scores == sorted(scores, reverse=True) and 0 < sum(scores) <= 1
    capsys.readouterr()
    assert main(["fill-mask", "--model", str(mlm_run), "--text", "x = [MASK]"]) == 0
    assert capsys.readouterr().out.startswith("mask 1: ")


def test_tag_json_contract(tag_run, capsys):
    text = "Alice lives in Paris with Jean Luc"
    out = _json(capsys, ["tag", "--model", str(tag_run), "--text", text, "--json"])
    assert set(out) == {"entities", "tokens"}
    for entity in out["entities"]:
        assert set(entity) == {"text", "label", "start", "end", "score"}
        assert text[entity["start"]:entity["end"]] == entity["text"] and entity["label"] in ("PER", "LOC")
    assert {e["text"] for e in out["entities"]} >= {"Alice", "Paris"}
    assert all(set(t) == {"text", "tag", "score"} for t in out["tokens"])
    assert "".join(t["text"] for t in out["tokens"]).replace(" ", "") == text.replace(" ", "")


def test_evaluate_masked_lm_and_tagger(mlm_run, lm_text, tag_run, tagged_jsonl, tmp_path, capsys):
    masked = _json(capsys, ["evaluate", "--model", str(mlm_run), "--data", str(lm_text), "--json"])
    assert set(masked) == {"loss", "accuracy", "masked_tokens", "block_length"} and masked["masked_tokens"] > 0
    again = _json(capsys, ["evaluate", "--model", str(mlm_run), "--data", str(lm_text), "--json"])
    assert again == masked  # the same tokens are hidden each time
    tagged = _json(capsys, ["evaluate", "--model", str(tag_run), "--data", str(tagged_jsonl), "--json"])
    assert {"precision", "recall", "f1", "accuracy", "per_type", "rows"} <= set(tagged) and tagged["rows"] == 300
    assert set(tagged["per_type"]) == {"PER", "LOC"} and tagged["f1"] > 0.8
    conll = tmp_path / "people.conll"
    rows = [json.loads(line) for line in tagged_jsonl.read_text().splitlines()]
    conll.write_text("\n\n".join("\n".join(f"{w} {t}" for w, t in zip(r["tokens"], r["tags"])) for r in rows) + "\n")
    from_conll = _json(capsys, ["evaluate", "--model", str(tag_run), "--data", str(conll), "--json"])
    assert from_conll["f1"] == tagged["f1"]
