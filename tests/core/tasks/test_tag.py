"""Token classification: words aligned to sub-word tokens, CoNLL files, entity metrics as seqeval counts
them, the mistaken sentences, and entities equal to plain transformers' pipeline."""

from __future__ import annotations

import json

import pytest
from transformers import pipeline

from studio.core.data import sources
from studio.core.data.tokenizer import train_bpe
from studio.core.errors import DataError
from studio.core.playground.tagging import tag
from studio.core.runs import reader
from studio.core.tasks.loaded import load
from studio.core.tasks.tag import IGNORE, encode_words, entity_report


@pytest.mark.parametrize("family", ["bert", "gpt2"])
def test_each_words_tag_goes_on_its_first_piece(family):
    tok = train_bpe(["a b c d e f g h"] * 20, 280, family=family)  # long words fall apart into many pieces
    words = ["Kuala", "Lumpur", "is", "far"]
    ids, labels, _ = encode_words(tok, [words], [[1, 2, 0, 0]], limit=100)
    pieces = tok.convert_ids_to_tokens(ids[0])
    assert len(pieces) > len(words) + 2  # several words split into several pieces
    tagged = [label for label in labels[0] if label != IGNORE]
    assert tagged == [1, 2, 0, 0]
    for i, label in enumerate(labels[0]):
        if label != IGNORE:  # a labelled piece starts a word: " " before it in the joined text, or the start
            start = tok("Kuala Lumpur is far", return_offsets_mapping=True)["offset_mapping"][i][0]
            assert start == 0 or "Kuala Lumpur is far"[start - 1] == " "
    cut_ids, cut_labels, lengths = encode_words(tok, [words], [[1, 2, 0, 0]], limit=4)
    assert len(cut_ids[0]) == 4 and lengths == [len(ids[0])]
    if family == "bert":
        assert cut_ids[0][-1] == tok.sep_token_id and cut_labels[0][-1] == IGNORE


def test_conll_files_load_and_a_bad_line_is_named(tmp_path):
    (tmp_path / "ok.conll").write_text("-DOCSTART- -X- O O\n\nEU NNP B-NP B-ORG\nrejects VBZ B-VP O\n\n"
                                       "Peter NNP B-NP B-PER\nBlackburn NNP I-NP I-PER\n")
    ds = sources.load(str(tmp_path / "ok.conll"), tmp_path / "cache")
    assert ds["tokens"] == [["EU", "rejects"], ["Peter", "Blackburn"]] and ds["tags"][0] == ["B-ORG", "O"]
    assert ds["tags"][1] == ["B-PER", "I-PER"]  # the tag is the last column
    (tmp_path / "bad.conll").write_text("EU B-ORG\n\nPeter B-PER\nBlackburn\n")
    with pytest.raises(DataError, match="'bad.conll' line 4 has no tag"):
        sources.load(str(tmp_path / "bad.conll"), tmp_path / "cache")


def test_entity_report_counts_exact_spans_and_reads_plain_io_tags():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["PER", "O"]]
    predicted = [["B-PER", "O", "O", "B-LOC"], ["PER", "O"]]
    out = entity_report(gold, predicted)
    assert out["precision"] == out["recall"] == out["f1"] == pytest.approx(2 / 3)  # a cut span is wrong
    assert out["per_type"]["PER"]["support"] == 2 and out["per_type"]["LOC"]["f1"] == 1.0
    assert out["accuracy"] == pytest.approx(5 / 6)


def test_a_tagging_run_reports_entity_metrics_and_mistakes(tag_run):
    info = reader.read(tag_run)
    assert info.status == "completed"
    row = [r for r in info.history if r.get("eval_f1") is not None][-1]
    assert {"eval_precision", "eval_recall", "eval_f1", "eval_accuracy"} <= set(row)
    assert row["eval_f1"] > 0.8  # people and places from short lists
    report = info.report
    assert set(report["per_type"]) == {"PER", "LOC"}
    for mistake in report["mistakes"]:
        assert len(mistake["words"]) == len(mistake["gold"]) == len(mistake["predicted"])
        assert mistake["gold"] != mistake["predicted"]
    assert load(str(tag_run)).labels == ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"]


def test_tag_entities_equal_the_pipeline(tag_run):
    loaded = load(str(tag_run))
    plain = pipeline("token-classification", model=str(tag_run / "model"), aggregation_strategy="first",
                     device="cpu")
    for text in ("Alice lives in Paris with Jean Luc", "Bob met with Eve and then left for New York"):
        ours = tag(loaded, text)
        theirs = plain(text)
        assert [(e.label, e.start, e.end) for e in ours.entities] == [(e["entity_group"], e["start"], e["end"])
                                                                       for e in theirs]
        assert [e.score for e in ours.entities] == pytest.approx([float(e["score"]) for e in theirs], abs=1e-6)
        assert all(text[e.start:e.end] == e.text for e in ours.entities)
        assert [t.text for t in ours.tokens if t.text.strip()]  # every token, with its own offsets
    json.dumps(ours.as_dict())


def test_runs_of_spaces_make_no_empty_entities(tag_run):
    result = tag(load(str(tag_run)), "Alice   lives in  Paris")
    assert result.entities and all(e.end > e.start and e.text.strip() == e.text for e in result.entities)
    assert all(t.text for t in result.tokens)
