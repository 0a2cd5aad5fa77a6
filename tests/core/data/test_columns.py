"""Column roles: guessed by name, then by elimination; checked by kind; errors in the person's terms."""

from __future__ import annotations

import datasets
import pytest

from studio.core.data.columns import LABEL, TEXT, Column, map_columns
from studio.core.errors import DataError

TEXT_ROLE = Column("text", "Text", TEXT, ("text", "sentence"), "")
LABEL_ROLE = Column("label", "Label", LABEL, ("label", "sentiment"), "")
SOURCE = Column("source", "Source text", TEXT, ("source", "article"), "")
TARGET = Column("target", "Target summary", TEXT, ("target", "highlights"), "")
FLAGS = {"text": "--text-column", "label": "--label-column", "source": "--source-column",
         "target": "--target-column"}


def _ds(**columns):
    return datasets.Dataset.from_dict(columns)


def test_guessed_by_name():
    ds = _ds(article=["a"], highlights=["h"], id=[1])
    assert map_columns(ds, (SOURCE, TARGET), {}, FLAGS) == {"source": "article", "target": "highlights"}
    ds = _ds(review=["good"], sentiment=["pos"])
    assert map_columns(ds, (TEXT_ROLE, LABEL_ROLE), {}, FLAGS)["label"] == "sentiment"


def test_the_one_column_left_is_taken():
    ds = _ds(body=["some words"], label=["x"])
    assert map_columns(ds, (TEXT_ROLE, LABEL_ROLE), {}, FLAGS) == {"text": "body", "label": "label"}
    ds = _ds(body=["some words"], n=[3])  # an integer column cannot hold text, so body is the only text
    assert map_columns(ds, (TEXT_ROLE,), {}, FLAGS) == {"text": "body"}


def test_two_candidates_are_not_guessed():
    with pytest.raises(DataError, match="Which column holds the text.*--text-column"):
        map_columns(_ds(body=["a"], label=["x"]), (TEXT_ROLE,), {}, FLAGS)


def test_choices_are_checked():
    ds = _ds(article=["a"], highlights=["h"], id=[1], tags=[["a", "b"]])
    with pytest.raises(DataError, match="no column 'nope'.*--source-column"):
        map_columns(ds, (SOURCE, TARGET), {"source": "nope"}, FLAGS)
    with pytest.raises(DataError, match="does not hold text"):
        map_columns(ds, (SOURCE, TARGET), {"source": "id"}, FLAGS)
    with pytest.raises(DataError, match="both 'article'; choose two different columns"):
        map_columns(ds, (SOURCE, TARGET), {"source": "article", "target": "article"}, FLAGS)
    with pytest.raises(DataError, match="does not hold one label per row \\(it holds lists\\)"):
        map_columns(ds, (TEXT_ROLE, LABEL_ROLE), {"text": "article", "label": "tags"}, FLAGS)
