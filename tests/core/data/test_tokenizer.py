"""Tokenizers Studio trains carry their family's special tokens and template, and load in plain
transformers encoding the same way."""

from __future__ import annotations

import pytest
from transformers import AutoTokenizer

from studio.core.data.encoding import encode, frame
from studio.core.data.tokenizer import save_tokenizer, train_bpe

TEXTS = ["def add(a, b):\n    return a + b\n" * 20, "Return the sum of two numbers.\n" * 20]


@pytest.mark.parametrize("family,head,tail", [
    ("gpt2", [], []), ("bert", ["[CLS]"], ["[SEP]"]), ("bart", ["<s>"], ["</s>"]), ("t5", [], ["</s>"])])
def test_each_family_has_its_template_in_plain_transformers(family, head, tail, tmp_path):
    tok = train_bpe(TEXTS, 300, family=family)
    save_tokenizer(tok, tmp_path / "tok")
    plain = AutoTokenizer.from_pretrained(str(tmp_path / "tok"))
    ids = plain("def add(a, b)")["input_ids"]
    tokens = plain.convert_ids_to_tokens(ids)
    assert tokens[:len(head)] == head and tokens[len(tokens) - len(tail):] == tail
    assert plain.decode(ids, skip_special_tokens=True) == "def add(a, b)"
    assert [plain.convert_ids_to_tokens(x) for x in frame(plain)] == [head, tail]
    assert encode(plain, ["def add(a, b)"])[0] == ids  # Studio's fast path encodes as plain transformers


def test_bert_family_has_a_mask_and_no_end_token():
    tok = train_bpe(TEXTS, 300, family="bert")
    assert (tok.cls_token, tok.sep_token, tok.mask_token, tok.pad_token) == ("[CLS]", "[SEP]", "[MASK]", "[PAD]")
    assert tok.eos_token is None


def test_a_borrowed_tokenizer_that_spells_the_text_out_is_measured():
    from studio.core.data.tokenizer import SMALL_PIECES, characters_per_token, pieces_note

    tok = train_bpe(TEXTS, 300, family="bert")
    new_words = ["orchestra rehearsed symphony movements quietly"] * 20
    assert characters_per_token(tok, iter(new_words)) < SMALL_PIECES
    assert characters_per_token(train_bpe(new_words, 300, family="bert"), iter(new_words)) >= SMALL_PIECES
    assert pieces_note(1.4, "RUN", []).startswith("The tokenizer of RUN cuts your text into pieces of 1.4 characters")
    assert "2 of your data's frequent words it cuts into several pieces (a, b, ...)" in pieces_note(1.4, "RUN",
                                                                                                   ["a", "b"])
