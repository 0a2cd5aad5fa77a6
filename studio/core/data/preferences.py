"""Preference pairs in the shapes people keep them, as one prompt (messages) and two answers (text).

The shape trl and the Hub's preference sets use: a `prompt` (a string, or a list of messages ending on the
user's turn) with a `chosen` and a `rejected` answer (strings, or lists holding the assistant's message);
or no prompt column, with `chosen` and `rejected` as whole conversations that share their opening turns,
which are then the prompt. The pair's tokens follow the model's chat template, as trl's DPOTrainer
tokenizes them: the prompt with the generation prompt, then each answer as the rest of the conversation.
Every refusal names the row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from studio.core.data import conversations
from studio.core.errors import DataError

Message = dict[str, str]


@dataclass(frozen=True)
class Pair:
    prompt: list[Message]  # ends on the user's turn
    chosen: str
    rejected: str


@dataclass(frozen=True)
class EncodedPair:
    prompt_ids: list[int]
    chosen_ids: list[int]
    rejected_ids: list[int]
    cut: bool  # an answer was cut to fit the length limit


def pair(row: dict[str, Any], columns: dict[str, str], index: int) -> Pair:
    """A row's prompt and its two answers, from whichever columns the data has."""
    chosen, rejected = row[columns["chosen"]], row[columns["rejected"]]
    if "prompt" in columns:
        prompt = _prompt(row[columns["prompt"]], index)
        return Pair(prompt, _answer(chosen, prompt, "chosen", index), _answer(rejected, prompt, "rejected", index))
    if not isinstance(chosen, list) or not isinstance(rejected, list):
        raise DataError(f"Row {index + 1} has no prompt column, so its chosen and rejected answers must be whole "
                        "conversations that share their opening turns; give a prompt column (--prompt-column) or "
                        "conversations.")
    first, second = conversations.from_turns(chosen, index), conversations.from_turns(rejected, index)
    shared = 0
    while shared < min(len(first), len(second)) - 1 and first[shared] == second[shared]:
        shared += 1
    prompt = first[:shared]
    return Pair(_checked_prompt(prompt, index), _answer(first[shared:], prompt, "chosen", index),
                _answer(second[shared:], prompt, "rejected", index))


def _prompt(value: Any, index: int) -> list[Message]:
    if isinstance(value, str):
        if not value.strip():
            raise DataError(f"Row {index + 1} has an empty prompt; every pair needs the question it answers.")
        return [{"role": "user", "content": value}]
    if isinstance(value, list) and value:
        return _checked_prompt([conversations.message(turn, index) for turn in value], index)
    raise DataError(f"Row {index + 1}: the prompt is {conversations.describe(value)}; a prompt is a text or a list "
                    "of {\"role\", \"content\"} messages ending on the user's turn.")


def _checked_prompt(messages: list[Message], index: int) -> list[Message]:
    if not messages or messages[-1]["role"] != "user":
        raise DataError(f"Row {index + 1}: the prompt must end on the user's turn (the answers follow it); it ends "
                        f"on {'nothing' if not messages else 'the ' + messages[-1]['role'] + ' turn'}.")
    return messages


def _answer(value: Any, prompt: list[Message], which: str, index: int) -> str:
    """An answer's text: a string, or the assistant's message (after the prompt's turns when the answer
    repeats the whole conversation)."""
    if isinstance(value, str):
        if not value.strip():
            raise DataError(f"Row {index + 1} has an empty {which} answer; every pair needs two answers.")
        return value
    if isinstance(value, list) and value:
        messages = [conversations.message(m, index) for m in value]
        if messages[:len(prompt)] == prompt and len(messages) > len(prompt):
            messages = messages[len(prompt):]
        if len(messages) == 1 and messages[0]["role"] == "assistant" and messages[0]["content"].strip():
            return messages[0]["content"]
    raise DataError(f"Row {index + 1}: the {which} answer is {conversations.describe(value)}; an answer is a text or "
                    "a list holding the assistant's one message.")


def encode(tokenizer: Any, found: Pair, limit: int) -> EncodedPair | None:
    """The pair's tokens, answers cut to fit `limit` with the prompt; None when the prompt alone fills it.

    As trl's DPOTrainer does: the prompt rendered with the generation prompt, each answer rendered as the
    conversation's last turn, and the answer's tokens those after the prefix the renders share (a template
    may render the prompt alone a little differently)."""
    from trl.data_utils import common_prefix_length

    def render(messages: list[Message], generation_prompt: bool) -> list[int]:
        out = tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True,
                                            add_generation_prompt=generation_prompt)
        return list(out["input_ids"])

    prompt = render(found.prompt, True)
    with_chosen = render([*found.prompt, {"role": "assistant", "content": found.chosen}], False)
    with_rejected = render([*found.prompt, {"role": "assistant", "content": found.rejected}], False)
    shared = min(common_prefix_length(prompt, with_chosen), common_prefix_length(prompt, with_rejected))
    prompt = prompt[:shared]
    if len(prompt) >= limit:
        return None
    room = limit - len(prompt)
    chosen, rejected = with_chosen[shared:], with_rejected[shared:]
    return EncodedPair(prompt, chosen[:room], rejected[:room], max(len(chosen), len(rejected)) > room)
