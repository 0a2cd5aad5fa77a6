"""Every shape people keep conversations in becomes the same messages, so the same tokens; what cannot
be a conversation is refused naming its row."""

from __future__ import annotations

import pytest

from studio.core.data import chat_encoding, chat_templates, conversations
from studio.core.data.tokenizer import train_bpe
from studio.core.errors import DataError

OPENAI = [{"role": "user", "content": "Which module has sqrt?"}, {"role": "assistant", "content": "math"}]
SHAREGPT = [{"from": "human", "value": "Which module has sqrt?"}, {"from": "gpt", "value": "math"}]


def test_every_format_gives_the_same_tokens():
    tok = train_bpe(["Which module has sqrt? math\n" * 40], 300, family="gpt2")
    chat_templates.apply(tok, "chatml")
    shapes = [conversations.from_turns(OPENAI, 0), conversations.from_turns(SHAREGPT, 0),
              conversations.from_prompt("Which module has sqrt?", "math", 0),
              conversations.from_alpaca("Which module has sqrt?", "", "math", 0)]
    assert all(s == OPENAI for s in shapes)
    encoded = [chat_encoding.encode(tok, s, limit=128) for s in shapes]
    assert all(e == encoded[0] for e in encoded)


def test_alpaca_input_follows_the_instruction_and_a_system_prompt_leads():
    messages = conversations.from_alpaca("Name the module.", "sqrt", "math", 0)
    assert messages[0] == {"role": "user", "content": "Name the module.\n\nsqrt"}
    assert conversations.from_prompt("q", "a", 0, system="Be brief.")[0] == {"role": "system", "content": "Be brief."}


@pytest.mark.parametrize("turns,said", [
    ("just text", "Row 3: the messages are not a list"),
    ([], "Row 3: the messages are not a list"),
    ([{"role": "user", "content": "hi"}], "Row 3 has no assistant turn"),
    ([{"role": "narrator", "content": "hi"}, {"role": "assistant", "content": "x"}], "a message from 'narrator'"),
    ([{"role": "user", "content": ["hi"]}, {"role": "assistant", "content": "x"}], "whose content is a list"),
    ([{"speaker": "user", "text": "hi"}], "each message must be an object with \"role\" and \"content\""),
])
def test_what_cannot_be_a_conversation_is_refused_with_its_row(turns, said):
    with pytest.raises(DataError, match=said.replace("(", r"\(")):
        conversations.from_turns(turns, 2)


def test_a_prompt_or_response_missing_is_refused():
    with pytest.raises(DataError, match="Row 1 has no prompt text"):
        conversations.from_prompt("  ", "math", 0)
    with pytest.raises(DataError, match="Row 2 has no response text"):
        conversations.from_prompt("q", None, 1)
