"""A conversation's attention: the model's chat template rendered and each turn's tokens marked, so the map
shows which earlier turn an answer looks at. (The Playground's `conversation.answered_by` adds the model's
own answer to a conversation that ends on the person's turn.)"""

from __future__ import annotations

import numpy as np

from studio.core.attention.extract import Attention, forward, require_eager
from studio.core.data import chat_encoding
from studio.core.errors import ConfigError, ModelError
from studio.core.modeling.loaded import LoadedModel


def extract(loaded: LoadedModel, messages: list[dict[str, str]]) -> Attention:
    """Every layer's and head's attention over the rendered conversation, with its turns."""
    require_eager(loaded)
    if loaded.model.config.is_encoder_decoder or not getattr(loaded.tokenizer, "chat_template", None):
        raise ModelError(f"'{loaded.source}' has no chat template, so its text cannot be read as a conversation; "
                         "untick the conversation box to look at it as plain text.")
    if not messages:
        raise ConfigError("There is no conversation to look at; write at least one turn.")
    ids, starts = chat_encoding.turn_starts(loaded.tokenizer, messages)
    if len(ids) > loaded.input_limit:
        raise ConfigError(f"The conversation is {len(ids):,} tokens under the model's template, more than the "
                          f"{loaded.input_limit:,} it reads; leave out its earliest turns.")
    att = forward(loaded.model, loaded.tokenizer, ids)
    if starts is not None:
        att.turn_roles = [m["role"] for m in messages]
        att.turn_starts = np.array(starts, dtype=np.int64)
    return att
