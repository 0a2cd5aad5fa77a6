"""A conversation's attention: the model's chat template rendered, the model's own answer added when the
person's turn is the last, and each turn's tokens marked, so the map shows which earlier turn an answer
looks at."""

from __future__ import annotations

import numpy as np

from studio.core.attention.extract import Attention, forward
from studio.core.data import chat_encoding
from studio.core.errors import ConfigError
from studio.core.modeling.loaded import LoadedModel
from studio.core.playground import generation
from studio.core.playground.sampling import Sampling

ANSWER_TOKENS = 48  # the answer the model writes to a conversation that ends on the person's turn


def extract(loaded: LoadedModel, messages: list[dict[str, str]]) -> Attention:
    """Every layer's and head's attention over the rendered conversation, with its turns."""
    if loaded.model.config._attn_implementation != "eager":
        raise ConfigError("Attention weights need a model loaded with attn_implementation='eager'.")
    if not messages:
        raise ConfigError("There is no conversation to look at; write at least one turn.")
    if messages[-1]["role"] != "assistant":
        answer = generation.chat(loaded, messages, Sampling(max_new_tokens=ANSWER_TOKENS, greedy=True))
        messages = [*messages, {"role": "assistant", "content": answer.text.strip()}]
    ids, starts = chat_encoding.turn_starts(loaded.tokenizer, messages)
    if len(ids) > loaded.input_limit:
        raise ConfigError(f"The conversation is {len(ids):,} tokens under the model's template, more than the "
                          f"{loaded.input_limit:,} it reads; leave out its earliest turns.")
    att = forward(loaded.model, loaded.tokenizer, ids)
    if starts is not None:
        att.turn_roles = [m["role"] for m in messages]
        att.turn_starts = np.array(starts, dtype=np.int64)
    return att
