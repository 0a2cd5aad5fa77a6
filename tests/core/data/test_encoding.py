"""Studio's fast encoding: framed and cut as plain transformers would, offsets for spans, Arrow columns
built from flat buffers, cache keys that change with what they key, and statistics."""

from __future__ import annotations

import numpy as np
import pytest
from datasets import Dataset

from studio.core.control import Control
from studio.core.data import encoding
from studio.core.data.encoding import cut, encode
from studio.core.data.tokenizer import train_bpe
from studio.core.errors import Cancelled

TEXTS = ["def add(a, b):\n    return a + b\n" * 20, "Return the sum of two numbers.\n" * 20]


def test_truncation_keeps_the_frame_and_cuts_the_content():
    tok = train_bpe(TEXTS, 300, family="bart")
    full = encode(tok, ["def add(a, b): return a + b"])[0]
    short = encode(tok, ["def add(a, b): return a + b"], limit=5)[0]
    assert len(short) == 5 and short[0] == full[0] and short[-1] == full[-1] and short[1:4] == full[1:4]
    end = cut(tok, [full], 5, keep="end")[0]
    assert end[0] == full[0] and end[1:4] == full[-4:-1] and end[-1] == full[-1]
    assert encode(tok, ["x"], limit=100)[0] == encode(tok, ["x"])[0]


def test_offsets_point_into_the_text_and_template_tokens_have_none():
    tok = train_bpe(TEXTS, 300, family="bert")
    text = "return a + b"
    (ids,), (spans,) = encoding.encode_with_offsets(tok, [text])
    assert ids == encode(tok, [text])[0]
    assert spans[0] == (0, 0) and spans[-1] == (0, 0)  # [CLS] and [SEP]
    pieces = [text[a:b] for a, b in spans[1:-1]]
    assert "".join(pieces).replace(" ", "") == text.replace(" ", "")


def test_list_array_is_the_rows_with_an_optional_end_token():
    array = encoding.list_array([[1, 2], [], [3]], tail=9)
    assert array.to_pylist() == [[1, 2, 9], [9], [3, 9]]
    assert encoding.list_array([[5, 6, 7]]).to_pylist() == [[5, 6, 7]]


def test_fingerprints_change_with_the_tokenizer_and_the_settings():
    rows = Dataset.from_dict({"text": ["a", "b"]})
    bert, bart = train_bpe(TEXTS, 300, family="bert"), train_bpe(TEXTS, 300, family="bart")
    key = encoding.fingerprint(rows, bert, 128)
    assert key == encoding.fingerprint(rows, bert, 128)
    assert key != encoding.fingerprint(rows, bart, 128) and key != encoding.fingerprint(rows, bert, 64)


def test_the_reporter_says_how_far_and_stops_when_asked():
    seen = []
    control = Control()
    advance = encoding.reporter(10, seen.append, control)
    advance(4)
    advance(8)
    assert seen == [0.4, 1.0]
    control.stop()
    with pytest.raises(Cancelled):
        advance(1)


def test_statistics_of_lengths_against_the_limit():
    found = encoding.stats(np.array([2, 4, 6, 8]), characters=40, limit=5)
    assert (found.rows, found.tokens, found.max_length, found.mean_length) == (4, 20, 8, 5.0)
    assert found.truncated_share == 0.5 and sum(found.histogram_counts) == 4
    assert encoding.stats(np.array([], dtype=np.int64), 0, 5).rows == 0
