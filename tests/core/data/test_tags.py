"""Tag columns: words and tags that pair up, tag sets with names, and no imbalance warning for tags."""

from __future__ import annotations

import datasets
import pytest

from studio.core.data import tags
from studio.core.errors import DataError

FLAGS = {"tokens": "--tokens-column", "tags": "--tags-column"}


def test_rows_whose_words_and_tags_differ_are_named():
    ds = datasets.Dataset.from_dict({"tokens": [["a", "b"], ["c"], ["d", "e"]], "tags": [["O", "O"], ["O"], ["O"]]})
    with pytest.raises(DataError, match="Row 3 has 2 words in 'tokens' but 1 tags in 'tags'"):
        tags.check_pairs(ds, "tokens", "tags", FLAGS)


def test_tag_sets_from_words_or_named_numbers_and_their_ids():
    ds = datasets.Dataset.from_dict({"tokens": [["EU", "rejects"], [], ["Peter", "Smith"]],
                                     "tags": [["B-ORG", "O"], [], ["B-PER", "I-PER"]]})
    found = tags.tag_set(ds, "tags", "--tags-column")
    assert (found.names, found.missing) == (["O", "B-ORG", "B-PER", "I-PER"], 1)
    assert found.warnings() == ["'O', 'B-ORG', 'B-PER', 'I-PER' have fewer than 5 words; the model will hardly learn "
                                "them — add data or merge them."]  # and no word about O outnumbering them
    found.counts[0] = 500
    assert len(found.warnings()) == 1 and "×" not in found.warnings()[0]
    rows = tags.with_tag_ids(ds, "tags", found)
    assert rows["tag_ids"] == [[1, 0], [2, 3]] and rows["tokens"] == [["EU", "rejects"], ["Peter", "Smith"]]
    named = datasets.Dataset.from_dict({"tokens": [["a", "b"]], "tags": [[0, 1]]}).cast_column(
        "tags", datasets.Sequence(datasets.ClassLabel(names=["O", "B-X"])))
    assert tags.tag_set(named, "tags", "x").names == ["O", "B-X"]
    with pytest.raises(DataError, match="numbers without names"):
        tags.tag_set(datasets.Dataset.from_dict({"tokens": [["a"]], "tags": [[3]]}), "tags", "x")
    assert tags.entity_types(["O", "B-PER", "I-PER", "LOC"]) == ["PER", "LOC"]
    assert tags.scheme_tags(["O", "PER", "B-LOC"]) == ["O", "I-PER", "B-LOC"]
