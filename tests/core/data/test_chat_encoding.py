"""A conversation's labels: the assistant's tokens exactly where transformers' own assistant mask puts
them, the same spans found without generation markers, and a sentence whenever they cannot be found."""

from __future__ import annotations

import pytest

from studio.core.data import chat_encoding, chat_templates
from studio.core.data.chat_encoding import IGNORE
from studio.core.data.tokenizer import train_bpe
from studio.core.errors import DataError

CONVERSATION = [{"role": "system", "content": "Answer in one line."},
                {"role": "user", "content": "What does len do?"},
                {"role": "assistant", "content": "It returns the number of items."},
                {"role": "user", "content": "And abs?"},
                {"role": "assistant", "content": "It returns the absolute value."}]
TEXTS = ["What does len do? It returns the number of items. And abs? The absolute value.\n" * 30]


def _tokenizer(template: str = "chatml"):
    tok = train_bpe(TEXTS, 400, family="gpt2")
    chat_templates.apply(tok, template)
    return tok


def _unmarked(template: str) -> str:
    return template.replace("{% generation %}", "").replace("{% endgeneration %}", "")


@pytest.mark.parametrize("template", ["chatml", "llama3", "gemma"])
def test_labels_are_the_ids_on_transformers_assistant_mask_and_ignored_elsewhere(template):
    tok = _tokenizer(template)
    plain = tok.apply_chat_template(CONVERSATION, tokenize=True, return_dict=True, return_assistant_tokens_mask=True)
    encoded = chat_encoding.encode(tok, CONVERSATION, limit=512)
    assert encoded.input_ids == list(plain["input_ids"]) and not encoded.cut
    assert encoded.labels == [i if m else IGNORE for i, m in zip(plain["input_ids"], plain["assistant_masks"])]
    learned = tok.decode([i for i in encoded.labels if i != IGNORE])
    end = chat_templates.TURN_END[template]
    assert learned == f"It returns the number of items.{end}It returns the absolute value.{end}"


@pytest.mark.parametrize("template", ["chatml", "llama3", "gemma"])
def test_without_generation_markers_the_same_spans_are_found(template):
    marked = _tokenizer(template)
    unmarked = _tokenizer(template)
    unmarked.chat_template = _unmarked(unmarked.chat_template)
    assert not chat_encoding.has_generation_marks(unmarked.chat_template)
    assert chat_encoding.encode(unmarked, CONVERSATION, limit=512) == chat_encoding.encode(marked, CONVERSATION,
                                                                                           limit=512)


def test_the_whole_conversation_when_asked():
    tok = _tokenizer()
    encoded = chat_encoding.encode(tok, CONVERSATION, limit=512, train_on_prompt=True)
    assert encoded.labels == encoded.input_ids


def test_a_long_conversation_keeps_whole_turns():
    tok = _tokenizer()
    first = chat_encoding.encode(tok, CONVERSATION[:3], limit=512)
    whole = chat_encoding.encode(tok, CONVERSATION, limit=512)
    kept = chat_encoding.encode(tok, CONVERSATION, limit=len(whole.input_ids) - 1)
    assert kept.cut and kept.input_ids == first.input_ids and kept.labels == first.labels
    cut = chat_encoding.encode(tok, CONVERSATION, limit=len(first.input_ids) - 3)
    assert cut.cut and cut.input_ids == first.input_ids[:len(first.input_ids) - 3]


def test_a_template_that_rewrites_earlier_turns_is_refused():
    tok = _tokenizer()
    # like templates that drop an earlier answer's reasoning: only the last assistant turn is written whole
    tok.chat_template = ("{%- for m in messages %}{{ m['role'] }}: "
                         "{%- if m['role'] == 'assistant' and not loop.last %}...{% else %}{{ m['content'] }}{% endif %}\n"
                         "{%- endfor %}{%- if add_generation_prompt %}assistant: {% endif %}")
    with pytest.raises(DataError, match="writes earlier turns differently"):
        chat_encoding.encode(tok, CONVERSATION, limit=512, row=6)


def test_a_template_that_writes_no_answer_is_refused():
    tok = _tokenizer()
    tok.chat_template = "{%- for m in messages %}{% if m['role'] != 'assistant' %}{{ m['content'] }}{% endif %}{% endfor %}"
    with pytest.raises(DataError, match="Row 3: no assistant tokens were found"):
        chat_encoding.encode(tok, CONVERSATION, limit=512, row=2)


def test_roles_the_template_refuses_are_a_sentence_naming_the_row():
    tok = _tokenizer()
    tok.chat_template = ("{%- for m in messages %}{% if (m['role'] == 'user') != (loop.index0 % 2 == 0) %}"
                         "{{ raise_exception('Conversation roles must alternate user/assistant') }}{% endif %}"
                         "{{ m['content'] }}{% endfor %}")
    with pytest.raises(DataError, match="Row 4: the model's chat template refused this conversation .*alternate"):
        chat_encoding.encode(tok, CONVERSATION, limit=512, row=3)


def test_a_tokenizer_without_a_template_says_how_to_choose_one():
    tok = train_bpe(TEXTS, 400, family="gpt2")
    with pytest.raises(DataError, match="--chat-template"):
        chat_encoding.encode(tok, CONVERSATION, limit=512)
