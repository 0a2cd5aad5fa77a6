"""Extractive question answering: windows labelled as run_qa labels them, SQuAD's exact match and F1, answers
equal to the question-answering pipeline's decoding worked out by brute force, evaluation, and the
sentences for bad data and the wrong model."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from studio.cli import main
from studio.core.playground.answering import answer
from studio.core.runs import reader
from studio.core.tasks import squad
from studio.core.tasks.base import Request
from studio.core.tasks.loaded import load
from studio.core.tasks.qa import encode_windows
from tests.helpers import TINY_QA, questions, train_cli


def test_a_qa_run_reports_exact_match_and_f1_and_learns(qa_run):
    info = reader.read(qa_run)
    evaluated = [row for row in info.history if row.get("eval_f1") is not None]
    assert info.status == "completed" and len(evaluated) == 2
    assert all(0 <= row["eval_exact_match"] <= row["eval_f1"] <= 100 for row in evaluated)
    assert evaluated[-1]["eval_loss"] < evaluated[0]["eval_loss"]
    loaded = load(str(qa_run))
    assert loaded.task.name == "qa" and type(loaded.model).__name__ == "BertForQuestionAnswering"
    assert "missed" in (info.report or {})


def test_each_window_learns_where_its_answer_is_or_points_at_the_first_token(qa_run):
    tokenizer = load(str(qa_run)).tokenizer
    context = " ".join(f"Sentence {i} says nothing." for i in range(12)) + " The key is under the mat."
    start = context.index("under the mat")
    found = encode_windows(tokenizer, ["Where is the key?"], [context],
                           [{"text": ["under the mat"], "answer_start": [start]}], 32, 8)
    assert len(found["input_ids"]) > 2 and set(found["example"]) == {0}
    holding = [w for w, s in enumerate(found["start_positions"]) if s != 0]
    assert holding, "the last window holds the answer"
    for w, ids in enumerate(found["input_ids"]):
        s, e = found["start_positions"][w], found["end_positions"][w]
        if w in holding:
            offsets = found["offsets"][w]
            assert context[offsets[2 * s]:offsets[2 * e + 1]].strip() == "under the mat"
        else:
            assert s == e == ids.index(tokenizer.cls_token_id)
    # consecutive windows share context tokens (the stride)
    first = [o for o in zip(found["offsets"][0][::2], found["offsets"][0][1::2]) if o[0] >= 0]
    second = [o for o in zip(found["offsets"][1][::2], found["offsets"][1][1::2]) if o[0] >= 0]
    assert set(first) & set(second)


def test_squad_scores_count_as_the_official_script():
    assert squad.normalize("The  Cat, sat!") == "cat sat"
    assert squad.exact("an apple", "Apple") == 1.0
    assert squad.f1("the red cat", "red dog") == pytest.approx(0.5)  # one of two words each way
    scores = squad.scores(["Paris", "in London town", ""], [["paris", "Lyon"], ["London"], []])
    assert scores["exact_match"] == pytest.approx(200 / 3)
    assert scores["f1"] == pytest.approx(100 * (1 + 0.5 + 1) / 3)


def _reference(model, tok, question, context, limit, stride, top_k, longest=15):
    """transformers 4's question-answering pipeline by brute force: every window on its own, every span of
    context tokens (and none through the first token), the product of start and end probabilities, widened
    to whole words."""
    enc = tok(question, context, truncation="only_second", max_length=limit, stride=stride,
              return_overflowing_tokens=True, return_offsets_mapping=True, return_token_type_ids=True)
    found = []
    for w in range(len(enc["input_ids"])):
        ids = enc["input_ids"][w]
        with torch.inference_mode():
            out = model(input_ids=torch.tensor([ids]), token_type_ids=torch.tensor([enc["token_type_ids"][w]]))
        usable = [s == 1 or i == tok.cls_token_id for s, i in zip(enc.sequence_ids(w), ids)]

        def probabilities(logits, usable=usable):
            x = np.where(usable, logits[0].numpy().astype(np.float64), -10000.0)
            x = np.exp(x - x.max())
            return x / x.sum()

        start, end = probabilities(out.start_logits), probabilities(out.end_logits)
        start[0] = end[0] = 0.0
        for s in range(len(ids)):
            for e in range(s, min(len(ids), s + longest)):
                if usable[s] and usable[e] and start[s] * end[e] > 0:
                    words = enc[w].token_to_word(s), enc[w].token_to_word(e)
                    begin = enc[w].word_to_chars(words[0], sequence_index=1)[0]
                    finish = enc[w].word_to_chars(words[1], sequence_index=1)[1]
                    found.append((start[s] * end[e], begin, finish))
    found.sort(key=lambda f: -f[0])
    return [{"text": context[b:f], "start": b, "end": f, "score": p} for p, b, f in found[:top_k]]


def test_studio_answer_equals_the_question_answering_pipeline(qa_run, capsys):
    loaded = load(str(qa_run))
    context = ("Alice lives in Paris. Bob works in Lima. Alice has 4 cats. " * 3) + "Carol lives in Oslo."
    for question in ("Where does Alice live?", "Who works in Lima?", "Where does Carol live?"):
        capsys.readouterr()
        assert main(["answer", "--model", str(qa_run), "--question", question, "--context", context, "--top-k", "3",
                     "--json"]) == 0
        ours = json.loads(capsys.readouterr().out)["answers"]
        theirs = _reference(loaded.model, loaded.tokenizer, question, context, loaded.input_limit, 8, 3)
        assert [(a["text"], a["start"], a["end"]) for a in ours] == [(a["text"], a["start"], a["end"]) for a in theirs]
        np.testing.assert_allclose([a["score"] for a in ours], [a["score"] for a in theirs], rtol=1e-4)
        assert all(context[a["start"]:a["end"]] == a["text"] for a in ours)
    assert main(["answer", "--model", str(qa_run), "--question", "Where?", "--context", context]) == 0
    assert "[" in capsys.readouterr().out  # the terminal's lines carry the offsets


def test_evaluate_reports_exact_match_f1_and_rows(qa_run, questions_jsonl, capsys):
    capsys.readouterr()
    assert main(["evaluate", "--model", str(qa_run), "--data", str(questions_jsonl), "--json"]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert set(scores) == {"exact_match", "f1", "rows"} and scores["rows"] == 300
    assert 0 <= scores["exact_match"] <= scores["f1"] <= 100


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.mark.parametrize(("change", "said"), [
    (lambda r: r["answers"].update(answer_start=[r["answers"]["answer_start"][0] + 1]),
     "Row 5: the answer '.*' does not start at character"),
    (lambda r: r["answers"].update(answer_start=[]), "Row 5's answers are not in SQuAD's shape"),
    (lambda r: r["answers"].update(text=[], answer_start=[]), "Row 5's question has no answer in its context \\(1 "
                                                               "question without one\\); pass --no-answer"),
])
def test_bad_answers_are_named_by_row_and_nothing_is_trained(ws, tmp_path, change, said, capsys):
    rows = questions(40)
    change(rows[4])
    data = _write(tmp_path / "bad.jsonl", rows)
    out = tmp_path / "run"
    assert main(["train", "--data", str(data), "--out", str(out), *TINY_QA[:4], "--max-steps", "2"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and __import__("re").search(said, err) and not out.exists()


def test_missing_columns_and_a_model_of_another_task_are_sentences(ws, tmp_path, qa_run, cls_run, capsys):
    data = _write(tmp_path / "q.jsonl", questions(30))
    assert main(["train", "--data", str(data), "--out", str(tmp_path / "r"), *TINY_QA[:4],
                 "--question-column", "query"]) == 2
    assert "There is no column 'query'" in capsys.readouterr().err
    assert main(["answer", "--model", str(cls_run), "--question", "Why?", "--context", "Because."]) == 2
    assert "text classification model; it does not answer questions from a text" in capsys.readouterr().err
    assert main(["classify", "--model", str(qa_run), "--text", "x"]) == 2
    assert "question answering model" in capsys.readouterr().err


@pytest.mark.slow
def test_questions_without_answers_train_with_no_answer_and_may_get_none(ws, tmp_path, capsys):
    rows = questions(120)
    for row in rows[::4]:
        row["question"] = "Who lives on the moon?"
        row["answers"] = {"text": [], "answer_start": []}
    data = _write(tmp_path / "v2.jsonl", rows)
    out = tmp_path / "v2"
    assert train_cli(ws, out, data, [*TINY_QA, "--no-answer", "--max-steps", "20", "--eval-every", "10",
                                     "--save-every", "10"]) == 0
    loaded = load(str(out))
    found = loaded.task.answer(loaded, Request("Who lives on the moon?", pair=rows[0]["context"],
                                               options={"top_k": 100})).answers  # the run's --no-answer holds
    empty = [a for a in found if a.text == ""]
    assert len(empty) == 1 and empty[0].start == empty[0].end == 0  # "no answer" is one of the candidates
    assert [a.score for a in found] == sorted((a.score for a in found), reverse=True)
    assert all(a.text == rows[0]["context"][a.start:a.end] for a in found)
    assert reader.read(out).history[-1]["eval_f1"] is not None
    assert all(a.text for a in answer(load(str(out)), "Who?", rows[0]["context"], top_k=100, no_answer=False).answers)
