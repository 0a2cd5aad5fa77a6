"""A conversation's attention is plain transformers' attention over the template's text, with each turn's
tokens marked where the template writes that turn; a conversation ending on the person's turn gets the
model's greedy answer first."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from studio.core.attention import conversation as turns
from studio.core.attention.extract import Attention
from studio.core.attention.selection import without_tokens
from studio.core.data import chat_encoding
from studio.core.data.conversations import from_transcript
from studio.core.errors import ConfigError, DataError, ModelError
from studio.core.playground import generation
from studio.core.playground.conversation import ANSWER_TOKENS, answered_by
from studio.core.playground.sampling import Sampling
from studio.core.tasks import loaded as inference

MESSAGES = [{"role": "system", "content": "Answer in one line."},
            {"role": "user", "content": "What does len do?"},
            {"role": "assistant", "content": "It returns the number of items."},
            {"role": "user", "content": "And abs?"},
            {"role": "assistant", "content": "The absolute value."}]


@pytest.fixture(scope="module")
def chat(chat_model):
    return inference.load(str(chat_model), attn_implementation="eager")


def test_each_turn_begins_where_the_template_writes_it(chat):
    tok = chat.tokenizer
    att = turns.extract(chat, MESSAGES)
    text = tok.apply_chat_template(MESSAGES, tokenize=False)
    ids = tok(text, add_special_tokens=False)["input_ids"]
    assert att.tokens == [tok.decode([i], skip_special_tokens=False) for i in ids]
    with torch.no_grad():
        plain = chat.model(torch.tensor([ids]), output_attentions=True).attentions
    assert np.allclose(att.attentions, torch.stack([a[0] for a in plain]).numpy(), atol=1e-6)
    found = att.turns()
    assert [role for role, _, _ in found] == [m["role"] for m in MESSAGES]
    assert found[0][1] == 0 and found[-1][2] == len(ids)
    for (role, start, end), message in zip(found, MESSAGES):
        written = "".join(att.tokens[start:end])
        assert written.startswith("<|im_start|>" + role) and message["content"] in written, (role, written)
    assert all(a[2] == b[1] for a, b in zip(found, found[1:]))  # every token is in one turn


def test_ending_on_the_persons_turn_the_model_answers_first(chat):
    asked = MESSAGES[:4]
    answer = generation.chat(chat, asked, Sampling(max_new_tokens=ANSWER_TOKENS, greedy=True)).text.strip()
    assert answered_by(chat, MESSAGES) == MESSAGES  # answered already
    att = turns.extract(chat, answered_by(chat, asked))
    assert [role for role, _, _ in att.turns()] == ["system", "user", "assistant", "user", "assistant"]
    written = chat.tokenizer.apply_chat_template(asked + [{"role": "assistant", "content": answer}], tokenize=False)
    assert "".join(att.tokens) == written


def test_turns_survive_the_npz_and_follow_hidden_tokens(chat, tmp_path):
    att = turns.extract(chat, MESSAGES)
    att.save_npz(tmp_path / "a.npz")
    back = Attention.load_npz(tmp_path / "a.npz")
    assert back.turns() == att.turns() and back.turn_starts.dtype.kind == "i"
    weights = att.attentions[0, 0]
    special = {"<|im_start|>", "<|im_end|>"}
    matrix, rows, _, moved = without_tokens(weights, att.tokens, att.tokens, special, att.turns())
    assert len(rows) == len(att.tokens) - sum(t in special for t in att.tokens) == matrix.shape[0]
    for (role, start, end), (same, new_start, new_end) in zip(att.turns(), moved):
        assert role == same
        assert rows[new_start:new_end] == [t for t in att.tokens[start:end] if t not in special]


def test_a_template_that_rewrites_earlier_turns_gives_no_turns(chat, monkeypatch):
    tok = chat.tokenizer
    # a template that numbers turns from the end writes turn 1 differently once more follow
    monkeypatch.setattr(tok, "chat_template", "{% for m in messages %}{{ messages|length - loop.index }}:"
                                              "{{ m['content'] }}\n{% endfor %}")
    ids, starts = chat_encoding.turn_starts(tok, MESSAGES)
    assert ids and starts is None


def test_what_cannot_be_read_as_a_conversation_says_why(chat, lm_run):
    with pytest.raises(DataError, match="one turn per speaker"):
        from_transcript("just some text")
    with pytest.raises(DataError, match="no conversation"):
        from_transcript("Assistant:")
    assert from_transcript("System: brief\n\nYou: hi\nthere\n\nAssistant: ") == [
        {"role": "system", "content": "brief"}, {"role": "user", "content": "hi\nthere"}]
    assert from_transcript('{"messages": [{"role": "user", "content": "hi"}]}') == [{"role": "user", "content": "hi"}]
    plain = inference.load(str(lm_run), attn_implementation="eager")
    with pytest.raises(ModelError, match="no chat template, so its text cannot be read as a conversation"):
        turns.extract(plain, MESSAGES[:2])
    with pytest.raises(ConfigError, match="no conversation"):
        turns.extract(chat, [])
