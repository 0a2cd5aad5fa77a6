"""A conversation as the model sees it (its chat template's text) and what it learns from: the
assistant's tokens, end-of-turn marker included; system and user tokens are -100.

Where the template marks the assistant's part (`{% generation %}`), transformers' own assistant mask
decides. Most templates on the Hub do not, so otherwise the assistant spans are found by rendering
the conversation up to each answer: the text up to the turn with the generation prompt, then through
it. That needs a template that renders earlier turns the same however many follow; one that does not
is refused with a sentence, never trained on the prompt silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from studio.core.errors import DataError

IGNORE = -100  # the label the loss leaves out


@dataclass
class Encoded:
    input_ids: list[int]
    labels: list[int]
    cut: bool = False  # longer than the limit: later turns were left out (or, one exchange too long, cut)
    length: int = 0  # the whole conversation's tokens, before any cut


def has_generation_marks(template: str | None) -> bool:
    return bool(template) and "generation %}" in template


def encode(tokenizer: Any, messages: list[dict[str, str]], *, limit: int, train_on_prompt: bool = False,
           row: int = 0) -> Encoded:
    """The conversation's token ids and labels, at most `limit` long: whole turns are kept while they fit
    (ending on an answer), and only a first exchange longer than the limit is cut mid-turn."""
    if not getattr(tokenizer, "chat_template", None):
        raise DataError("The model's tokenizer has no chat template; choose one with --chat-template (chatml, "
                        "llama3, gemma, or a Jinja file).")
    spans = _whole if train_on_prompt else assistant_mask
    ids, mask = spans(tokenizer, messages, row)
    length, cut = len(ids), False
    if len(ids) > limit:
        cut = True
        ends = [i for i, m in enumerate(messages) if m["role"] == "assistant"]
        for end in reversed(ends[:-1]):
            ids, mask = spans(tokenizer, messages[:end + 1], row)
            if len(ids) <= limit:
                break
        ids, mask = ids[:limit], mask[:limit]
    labels = [i if m else IGNORE for i, m in zip(ids, mask)]
    return Encoded(list(ids), labels, cut, length)


def _whole(tokenizer: Any, messages: list[dict[str, str]], row: int) -> tuple[list[int], list[int]]:
    ids = prompt_ids(tokenizer, messages, row, generation_prompt=False)
    return ids, [1] * len(ids)


def prompt_ids(tokenizer: Any, messages: list[dict[str, str]], row: int = 0, *, generation_prompt: bool = True
               ) -> list[int]:
    """The token ids of the conversation under the tokenizer's template, by default ready for the
    assistant's next answer, as `apply_chat_template(..., add_generation_prompt=True)` gives them."""
    text = _render(tokenizer, messages, row, add_generation_prompt=generation_prompt)
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def assistant_mask(tokenizer: Any, messages: list[dict[str, str]], row: int = 0) -> tuple[list[int], list[int]]:
    """(ids, 1 on the assistant's tokens) of the whole conversation under the tokenizer's template."""
    if has_generation_marks(tokenizer.chat_template):
        out = _render(tokenizer, messages, row, tokenize=True, return_dict=True, return_assistant_tokens_mask=True)
        ids, mask = list(out["input_ids"]), list(out["assistant_masks"])
    else:
        ids, mask = _mask_by_prefixes(tokenizer, messages, row)
    if not any(mask):
        raise DataError(f"Row {row + 1}: no assistant tokens were found under the model's chat template, so "
                        "training would learn the prompt; choose another template with --chat-template, or pass "
                        "--train-on-prompt to learn the whole conversation.")
    return ids, mask


def _mask_by_prefixes(tokenizer: Any, messages: list[dict[str, str]], row: int) -> tuple[list[int], list[int]]:
    text = _render(tokenizer, messages, row)
    spans = []
    for i, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        before = _render(tokenizer, messages[:i], row, add_generation_prompt=True)
        through = _render(tokenizer, messages[:i + 1], row)
        if not (through.startswith(before) and text.startswith(through)):
            raise DataError(f"Row {row + 1}: the model's chat template writes earlier turns differently when more "
                            "follow, so the assistant's answers cannot be told from the prompt; choose a template "
                            "with --chat-template, or pass --train-on-prompt.")
        # what follows the turn's end marker (a newline) belongs to the next turn's header
        spans.append((len(before), len(through.rstrip())))
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    mask = [int(end > start and any(end > a and start < b for a, b in spans))
            for start, end in encoded["offset_mapping"]]
    return list(encoded["input_ids"]), mask


def check_renders(tokenizer: Any, messages: list[dict[str, str]], row: int) -> None:
    """Refuse, naming the row, a conversation the tokenizer's chat template will not render (roles in an order
    it forbids), without the cost of tokenizing it."""
    _render(tokenizer, messages, row)


def turn_starts(tokenizer: Any, messages: list[dict[str, str]]) -> tuple[list[int], list[int] | None]:
    """The conversation's token ids under the template, and the token each message's turn begins at (a
    turn runs to the next one's start); None for the starts when the template writes earlier turns
    differently once more follow, so no token can be said to begin a turn."""
    import bisect

    text = _render(tokenizer, messages, 0)
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids, token_starts = list(encoded["input_ids"]), [start for start, _ in encoded["offset_mapping"]]
    starts = [0]
    for i in range(1, len(messages)):
        try:
            before = _render(tokenizer, messages[:i], 0)
        except DataError:
            return ids, None
        if not text.startswith(before):
            return ids, None
        starts.append(bisect.bisect_left(token_starts, len(before)))
    return ids, starts


def _render(tokenizer: Any, messages: list[dict[str, str]], row: int, **options: Any) -> Any:
    from jinja2 import TemplateError, TemplateSyntaxError

    try:
        return tokenizer.apply_chat_template(messages, **{"tokenize": False, **options})
    except TemplateSyntaxError as exc:
        raise DataError(f"The model's chat template has a Jinja error on line {exc.lineno} ({exc.message}), so no "
                        "conversation can be read with it; choose another with --chat-template (chatml, llama3, "
                        "gemma, or a Jinja file).") from None
    except TemplateError as exc:
        raise DataError(f"Row {row + 1}: the model's chat template refused this conversation ({exc}); check the "
                        "order of its roles.") from None
