"""A Playground chat as plain data: a system prompt and the turns so far, shown as a transcript or as the
exact text the model's template makes of it, and exported as `messages` JSON Lines, the shape the chat
task trains on, so a person can turn their chats into training data."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.core.errors import ConfigError
from studio.core.modeling.loaded import LoadedModel
from studio.core.system.files import atomic_write_text

_SPEAKERS = {"system": "System", "user": "You", "assistant": "Assistant"}


@dataclass
class Conversation:
    system: str = ""
    turns: list[dict[str, str]] = field(default_factory=list)  # user and assistant messages, in order

    def messages(self, pending: str | None = None) -> list[dict[str, str]]:
        """The whole conversation as a template reads it, with the user's `pending` turn last."""
        opening = [{"role": "system", "content": self.system}] if self.system.strip() else []
        asked = [{"role": "user", "content": pending}] if pending is not None else []
        return opening + self.turns + asked

    def history(self) -> tuple[dict[str, str], ...]:
        """What comes before the next question, for a chat Request."""
        return tuple(self.messages())

    def answered(self, question: str, answer: str) -> None:
        self.turns += [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]

    def questions(self) -> list[str]:
        return [t["content"] for t in self.turns if t["role"] == "user"]

    def back_to(self, question: int) -> str:
        """Forget the `question`-th user turn (from 0) and all after it; its text, to edit and ask again."""
        users = [i for i, t in enumerate(self.turns) if t["role"] == "user"]
        text = self.turns[users[question]]["content"]
        del self.turns[users[question]:]
        return text

    def transcript(self, pending: str | None = None) -> str:
        """The conversation as a person reads it, ending where the assistant's next answer goes."""
        parts = [f"{_SPEAKERS[m['role']]}: {m['content']}" for m in self.messages(pending)]
        return "\n\n".join(parts + ["Assistant: "]) if pending is not None else "\n\n".join(parts)

    def template_text(self, tokenizer: Any, pending: str | None = None) -> str:
        """The exact text the model reads: the template applied, special tokens and generation prompt included."""
        return tokenizer.apply_chat_template(self.messages(pending), tokenize=False, add_generation_prompt=True)

    def row(self) -> dict[str, Any]:
        return {"messages": self.messages()}


ANSWER_TOKENS = 48  # the answer the model writes to a conversation handed over ending on the person's turn


def answered_by(loaded: LoadedModel, messages: list[dict[str, str]]) -> list[dict[str, str]]:
    """`messages` with the model's greedy answer added when they end on the person's turn, so the answer
    can be looked at (in the Attention panel) against the turns it answers."""
    from studio.core.playground import generation
    from studio.core.playground.sampling import Sampling

    if not messages or messages[-1]["role"] == "assistant":
        return messages
    answer = generation.chat(loaded, messages, Sampling(max_new_tokens=ANSWER_TOKENS, greedy=True))
    return [*messages, {"role": "assistant", "content": answer.text.strip()}]


def export_jsonl(conversations: list[Conversation], path: Path) -> int:
    """Write the conversations that have an answer as `messages` JSON Lines (atomically); how many."""
    rows = [c.row() for c in conversations if any(t["role"] == "assistant" for t in c.turns)]
    if not rows:
        raise ConfigError("There is no answered conversation to export yet; chat with the model first.")
    if not path.parent.is_dir():
        raise ConfigError(f"The folder '{path.parent}' does not exist; choose an existing folder to export into.")
    try:
        atomic_write_text(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    except OSError as exc:
        raise ConfigError(f"Cannot write '{path}' ({exc.strerror}); choose another place.") from None
    return len(rows)
