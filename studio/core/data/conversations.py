"""Conversations in the shapes people keep them, as one list of {"role", "content"} messages.

OpenAI `messages` (roles system/user/assistant), ShareGPT `conversations` ({"from", "value"} with
human/gpt/system), Alpaca (`instruction`, optional `input`, `output`) and plain prompt/response
columns all become the `messages` a chat template reads. Every refusal names the row.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from studio.core.errors import DataError

ROLES = ("system", "user", "assistant")
# ShareGPT's speakers, and the other names tools write for the same three roles
_ROLE_NAMES = {"system": "system", "human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant",
               "bot": "assistant", "model": "assistant"}
_KEYS = (("role", "content"), ("from", "value"))

Message = dict[str, str]


def from_turns(turns: Any, row: int) -> list[Message]:
    """A list of messages in OpenAI's or ShareGPT's shape, checked: roles known, contents strings, at least
    one assistant turn."""
    if not isinstance(turns, list) or not turns:
        raise DataError(f"Row {row + 1}: the messages are not a list of {{\"role\", \"content\"}} objects "
                        f"(found {describe(turns)}).")
    messages = [message(turn, row, place) for place, turn in enumerate(turns, 1)]
    if not any(m["role"] == "assistant" for m in messages):
        raise DataError(f"Row {row + 1} has no assistant turn, so there is nothing to learn to answer; give each "
                        "conversation at least one assistant message.")
    return messages


def from_prompt(prompt: Any, response: Any, row: int, system: str | None = None) -> list[Message]:
    """One exchange: a prompt and its response (Alpaca's instruction and input joined, as Alpaca does)."""
    if not isinstance(prompt, str) or not prompt.strip():
        raise DataError(f"Row {row + 1} has no prompt text; every row needs a prompt and a response.")
    if not isinstance(response, str) or not response.strip():
        raise DataError(f"Row {row + 1} has no response text, so there is nothing to learn to answer.")
    messages = [{"role": "system", "content": system}] if system else []
    return messages + [{"role": "user", "content": prompt}, {"role": "assistant", "content": response}]


def from_alpaca(instruction: Any, extra: Any, output: Any, row: int) -> list[Message]:
    prompt = instruction if not (isinstance(extra, str) and extra.strip()) else f"{instruction}\n\n{extra}"
    return from_prompt(prompt, output, row)


def from_transcript(text: str) -> list[Message]:
    """A conversation a person typed or copied: one turn per speaker, each starting with its name and a
    colon (`System:`, `You:` or `User:`, `Assistant:`; lines without one continue the turn), or the JSON
    of a `messages` list or row, as the Playground exports. It need not end on an answer; a turn's
    content is not checked beyond being text."""
    import json
    import re

    stripped = text.strip()
    if stripped[:1] in "[{":
        try:
            value = json.loads(stripped)
        except json.JSONDecodeError:
            value = None
        if isinstance(value, Mapping):
            value = value.get("messages", value.get("conversations"))
        if isinstance(value, list) and value:
            return [message(turn, 0) for turn in value]
    speaker = re.compile(rf"^\s*({'|'.join(sorted({*_ROLE_NAMES, 'you'}, key=len, reverse=True))})\s*:\s?",
                         re.IGNORECASE)
    messages: list[Message] = []
    for line in text.splitlines():
        found = speaker.match(line)
        if found:
            name = found.group(1).lower()
            messages.append({"role": "user" if name == "you" else _ROLE_NAMES[name], "content": line[found.end():]})
        elif messages:
            messages[-1]["content"] += "\n" + line
        elif line.strip():
            raise DataError("Write the conversation one turn per speaker, each starting with its name and a colon "
                            "('System:', 'You:', 'Assistant:'), or paste its messages JSON.")
    messages = [{**m, "content": m["content"].strip()} for m in messages]
    if messages and messages[-1]["role"] == "assistant" and not messages[-1]["content"]:
        messages.pop()  # "Assistant:" with nothing after it is where the answer goes, as a transcript ends
    if not messages:
        raise DataError("There is no conversation to look at; write at least one turn, such as 'You: hello'.")
    return messages


def message(turn: Any, row: int, place: int = 1) -> Message:
    """The `place`-th message of row `row` (both counted from 1 in refusals, as a person counts them)."""
    if isinstance(turn, Mapping):
        # a key `datasets` filled with null, because other rows' messages have it, is as missing as an absent one
        turn = {k: v for k, v in turn.items() if v is not None}
        for role_key, content_key in _KEYS:
            if (role_key in turn) != (content_key in turn):
                missing = content_key if role_key in turn else role_key
                has = ", ".join(f'"{k}"' for k in turn) or "no keys"
                raise DataError(f'Row {row + 1}: message {place} has no "{missing}" (it has {has}); each message '
                                f'needs "{role_key}" and "{content_key}".')
            if role_key in turn and content_key in turn:
                role = _ROLE_NAMES.get(str(turn[role_key]).strip().lower())
                if role is None:
                    raise DataError(f"Row {row + 1} has a message from '{turn[role_key]}'; the roles a chat knows "
                                    f"are {', '.join(ROLES)} (ShareGPT's human and gpt too).")
                content = turn[content_key]
                if not isinstance(content, str):
                    raise DataError(f"Row {row + 1} has a {role} message whose content is {describe(content)}, "
                                    "not text.")
                return {"role": role, "content": content}
    raise DataError(f"Row {row + 1}: a message is {describe(turn)}; each message must be an object with "
                    "\"role\" and \"content\" (or ShareGPT's \"from\" and \"value\").")


def describe(value: Any) -> str:
    if isinstance(value, Mapping):
        return f"an object with keys {', '.join(map(str, list(value)[:4])) or 'none'}"
    if isinstance(value, list):
        return "an empty list" if not value else f"a list of {type(value[0]).__name__}"
    return f"{type(value).__name__} {str(value)[:40]!r}"
