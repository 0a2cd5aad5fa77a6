"""A task from outside Studio: topic classification that reads only the first words of each text (a
title, a subject line). It is the whole of what a package needs to add a task, with one line of
entry point metadata (see tests.plugin.install); the plug-in tests install it on a temporary path."""

from __future__ import annotations

from typing import Any

from studio.core.control import Control
from studio.core.settings import Setting
from studio.core.tasks.base import Command, OnToken, Progress, Request, TaskConfig
from studio.core.tasks.classify import TextClassification


def _first(text: str, words: int) -> str:
    return " ".join(text.split()[:words]) if words else text


class TopicClassification(TextClassification):
    name = "topic"
    title = "Topic classification"
    help = "Learn the topic of a text from its first words (a title or subject line)."
    settings = (Setting("topic_words", "int", 0, low=0, high=512, metavar="N", words=((0, "all"),),
                        title="Words read", help="read only the first N words of each text (0: all of them)"),)
    command = Command("topic", help="the topic a trained topic model gives a text",
                      description="The topic of a text (--text), or of each line of a file (--file).", file="lines",
                      json_help='print {"label", "score", "scores": {topic: probability}}',
                      example="open the file and read its bytes")

    def encode(self, rows: Any, tokenizer: Any, columns: dict[str, str], config: TaskConfig, *, ordered: bool,
               progress: Progress | None = None, control: Control | None = None) -> tuple[Any, dict[str, Any]]:
        words, column = config["topic_words"], columns["text"]
        if words:
            rows = rows.map(lambda row: {column: _first(row[column] or "", words)})
        return super().encode(rows, tokenizer, columns, config, ordered=ordered, progress=progress, control=control)

    def answer(self, loaded: Any, request: Request, *, on_token: OnToken | None = None,
               control: Control | None = None) -> Any:
        words = int(loaded.settings.get("topic_words") or 0)
        return super().answer(loaded, Request(_first(request.text, words), request.pair, request.options))


TASK = TopicClassification()
