"""A fine-tune's own words as tokens, when the tokenizer it borrows spells them out.

A model pretrained on other text (a masked-LM run on code, with a few hundred tokens) cuts a new task's words
into pieces of one or two letters. The same model from scratch trains a tokenizer on the task's data and reads
whole words; on made-up words the fine-tune stayed near chance (0.4) while that reached 1.00. As domain
adaptation does it (vocabulary expansion), the data's frequent words that the tokenizer cuts into several
pieces become tokens of their own, each embedding starting as the mean of its pieces' embeddings, so the
word starts where the model would have read it and then learns whole. The tokenizer is saved with the run,
so an exported model reads the same words the same way in plain transformers.
"""

from __future__ import annotations

import collections
import itertools
from collections.abc import Iterable
from typing import Any

MOST_WORDS = 2000
MIN_COUNT = 3  # a word seen fewer times has too little to learn its own embedding from
MIN_PIECES = 3
_READ_TEXTS = 20000


def spelled_out(tokenizer: Any, texts: Iterable[str]) -> dict[str, list[int]]:
    """The data's frequent words (letters and digits) that the tokenizer cuts into MIN_PIECES or more, most frequent
    first, with the ids of the pieces it cuts each into."""
    counts = collections.Counter(word for text in itertools.islice(texts, _READ_TEXTS) for word in text.split()
                                 if word.isalnum())
    vocab = tokenizer.get_vocab()
    found: dict[str, list[int]] = {}
    for word, count in counts.most_common():
        if count < MIN_COUNT or len(found) == MOST_WORDS:
            break
        # as the word reads inside a text, after a space (byte-level tokenizers mark it in the piece)
        pieces = tokenizer(" " + word, add_special_tokens=False)["input_ids"]
        if len(pieces) >= MIN_PIECES and word not in vocab:
            found[word] = pieces
    return found


def add_words(tokenizer: Any, words: Iterable[str]) -> None:
    """The words as tokens that match whole words only. The space before a word stays a token of its own: taken
    into the word's token (`lstrip`), it was lost when the ids were decoded back to text."""
    from tokenizers import AddedToken

    tokenizer.add_tokens([AddedToken(word, single_word=True) for word in words])


def start_embeddings(model: Any, tokenizer: Any, words: dict[str, list[int]]) -> None:
    """Each added word's embedding as the mean of its pieces' (the model's embeddings already have its row)."""
    import torch

    weight = model.get_input_embeddings().weight
    with torch.no_grad():
        for word, pieces in words.items():
            weight[tokenizer.convert_tokens_to_ids(word)] = weight[pieces].mean(0)
