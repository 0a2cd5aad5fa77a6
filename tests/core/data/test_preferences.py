"""Preference pairs in every shape people keep them read as the same prompt and answers; a bad row is a
sentence naming it."""

from __future__ import annotations

import pytest

from studio.core.data import chat_templates, preferences
from studio.core.data.tokenizer import train_bpe
from studio.core.errors import DataError
from tests.helpers import CHAT_TEXTS

COLUMNS = {"prompt": "prompt", "chosen": "chosen", "rejected": "rejected"}
SYSTEM = {"role": "system", "content": "Answer in one line."}
USER = {"role": "user", "content": "What does len do?"}
GOOD, BAD = "It returns the number of items.", "It sorts a list."


def _assistant(text: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": text}]


@pytest.mark.parametrize("row", [
    {"prompt": "What does len do?", "chosen": GOOD, "rejected": BAD},
    {"prompt": [USER], "chosen": _assistant(GOOD), "rejected": _assistant(BAD)},
    {"prompt": [{"from": "human", "value": USER["content"]}], "chosen": [{"from": "gpt", "value": GOOD}],
     "rejected": BAD},
    {"prompt": [USER], "chosen": [USER, *_assistant(GOOD)], "rejected": [USER, *_assistant(BAD)]},
])
def test_every_shape_of_a_pair_reads_the_same(row):
    found = preferences.pair(row, COLUMNS, 0)
    assert found == preferences.Pair([USER], GOOD, BAD)


def test_without_a_prompt_the_shared_opening_turns_are_the_prompt():
    row = {"chosen": [SYSTEM, USER, *_assistant(GOOD)], "rejected": [SYSTEM, USER, *_assistant(BAD)]}
    found = preferences.pair(row, {"chosen": "chosen", "rejected": "rejected"}, 0)
    assert found == preferences.Pair([SYSTEM, USER], GOOD, BAD)


@pytest.mark.parametrize(("row", "words"), [
    ({"prompt": 7, "chosen": GOOD, "rejected": BAD}, "Row 4: the prompt is int '7'"),
    ({"prompt": "  ", "chosen": GOOD, "rejected": BAD}, "Row 4 has an empty prompt"),
    ({"prompt": [USER, *_assistant(GOOD)], "chosen": GOOD, "rejected": BAD}, "must end on the user's turn"),
    ({"prompt": [USER], "chosen": [USER, USER], "rejected": BAD}, "Row 4: the chosen answer is a list of dict"),
    ({"prompt": "Hi", "chosen": GOOD, "rejected": ""}, "Row 4 has an empty rejected answer"),
])
def test_a_bad_row_is_refused_by_its_place(row, words):
    with pytest.raises(DataError, match=words.replace("(", r"\(")):
        preferences.pair(row, COLUMNS, 3)


def test_conversations_that_share_no_opening_turn_are_refused():
    row = {"chosen": GOOD, "rejected": BAD}
    with pytest.raises(DataError, match="no prompt column"):
        preferences.pair(row, {"chosen": "chosen", "rejected": "rejected"}, 0)


def test_encoding_follows_the_chat_template_and_cuts_answers_to_fit():
    tok = train_bpe(CHAT_TEXTS, 400, family="llama")
    chat_templates.apply(tok, "chatml")
    found = preferences.Pair([SYSTEM, USER], GOOD, BAD)
    done = preferences.encode(tok, found, 256)
    prompt = tok.apply_chat_template([SYSTEM, USER], tokenize=True, add_generation_prompt=True, return_dict=True)
    assert done.prompt_ids == list(prompt["input_ids"])
    assert tok.decode(done.chosen_ids).startswith(GOOD) and "<|im_end|>" in tok.decode(done.chosen_ids)
    assert not done.cut
    short = preferences.encode(tok, found, len(done.prompt_ids) + 3)
    assert short.cut and len(short.chosen_ids) == 3 and short.chosen_ids == done.chosen_ids[:3]
    assert preferences.encode(tok, found, len(done.prompt_ids)) is None  # the prompt alone fills it
