"""Next-sentence pairs: BERT's pair template read off the tokenizer, documents split as BERT splits them,
and pairs drawn half consecutive, half random, the same for a seed."""

from __future__ import annotations

from datasets import Dataset

from studio.core.data.sentence_pairs import IS_NEXT, RANDOM_NEXT, documents, draw, pair_frame, pairs_of, sentences
from studio.core.data.tokenizer import train_bpe


def _bert_tokenizer():
    return train_bpe(["the cat sat on the mat. A dog ran far away!"] * 40, 300, family="bert")


def test_the_pair_frame_joins_two_texts_as_the_tokenizer_itself_does():
    tok = _bert_tokenizer()
    frame = pair_frame(tok)
    a = tok("the cat sat", add_special_tokens=False)["input_ids"]
    b = tok("a dog ran", add_special_tokens=False)["input_ids"]
    ids, types = frame.join(a, b)
    plain = tok("the cat sat", "a dog ran", return_token_type_ids=True)
    assert ids == plain["input_ids"] and types == plain["token_type_ids"]
    assert tok.convert_ids_to_tokens(ids)[0] == "[CLS]" and ids.count(tok.sep_token_id) == 2
    assert set(types) == {0, 1} and frame.specials == 3


def test_sentences_are_lines_and_the_sentences_of_prose():
    assert sentences("First one. Second one!\n\n  def f(x):\n    return x.y\n") == \
        ["First one.", "Second one!", "  def f(x):", "    return x.y"]


def test_plain_text_documents_are_separated_by_blank_lines():
    ds = Dataset.from_dict({"text": ["A one.", "A two.", "", "B one.", "", "", "C one. C two."]})
    assert documents(ds, "text", ordered=True) == [["A one.", "A two."], ["B one."], ["C one.", "C two."]]
    assert documents(ds, "text", ordered=False) == [["A one."], ["A two."], ["B one."], ["C one.", "C two."]]


def _docs(n_docs: int, n_sentences: int) -> list[list[list[int]]]:
    # sentence k of document d is the ids [d * 1000 + k] * 3, so a pair says where each part came from
    return [[[d * 1000 + k] * 3 for k in range(n_sentences)] for d in range(n_docs)]


def test_pairs_are_half_consecutive_half_random_fit_the_budget_and_follow_the_seed():
    docs = _docs(30, 20)
    drawn = list(draw(docs, 16, seed=3))
    assert drawn == list(draw(docs, 16, seed=3)) and drawn != list(draw(docs, 16, seed=4))
    labels = [label for _, _, label in drawn]
    assert 0.35 < labels.count(IS_NEXT) / len(labels) < 0.65
    for a, b, label in drawn:
        assert a and b and len(a) + len(b) <= 16
        last_a, first_b = a[-1], b[0]
        if label == IS_NEXT:  # B starts with the sentence after A's last, in the same document
            assert first_b in (last_a, last_a + 1)
        else:  # B comes from another document
            assert first_b // 1000 != last_a // 1000
            assert label == RANDOM_NEXT


def test_a_single_document_draws_its_random_sentences_from_elsewhere_in_it():
    drawn = list(draw(_docs(1, 200), 12, seed=0))
    random_pairs = [(a, b) for a, b, label in drawn if label == RANDOM_NEXT]
    assert random_pairs
    for a, b in random_pairs:
        assert b[0] not in (a[-1], a[-1] + 1)


def test_pairs_of_gives_model_inputs_no_longer_than_the_length():
    tok = _bert_tokenizer()
    ds = Dataset.from_dict({"text": [f"The cat {i} sat. The dog {i} ran. A bird {i} flew.\nThe mat {i}."
                                     for i in range(40)]})
    pairs, stats = pairs_of(ds, tok, "text", 24, seed=0, ordered=False)
    assert set(pairs.column_names) == {"input_ids", "token_type_ids", "next_sentence_label"}
    assert len(pairs) > 20 and stats.rows == 40
    for row in pairs:
        assert len(row["input_ids"]) == len(row["token_type_ids"]) <= 24
        assert row["input_ids"][0] == tok.cls_token_id and row["input_ids"][-1] == tok.sep_token_id
    assert set(pairs["next_sentence_label"]) == {IS_NEXT, RANDOM_NEXT}
