"""Label columns: classes and counts, unlabelled rows, the checks that catch a wrong column, ids, and a
stratified split."""

from __future__ import annotations

import collections

import datasets
import pytest

from studio.core.data import labels
from studio.core.errors import DataError


def _ds(values):
    return datasets.Dataset.from_dict({"text": [f"row {i}" for i in range(len(values))], "label": values})


def test_string_labels_are_trimmed_counted_and_empty_ones_left_out():
    ds = _ds(["pos", " neg", "", None, "pos", "neg ", "pos"])
    found = labels.label_set(ds, "label", "--label-column")
    assert (found.names, found.counts, found.missing) == (["neg", "pos"], [2, 3], 2)
    rows = labels.with_label_ids(ds, "label", found, "--label-column")
    assert rows["text"] == ["row 0", "row 1", "row 4", "row 5", "row 6"]
    assert rows[labels.LABELS] == [1, 0, 1, 0, 1]


def test_integer_boolean_and_class_label_columns():
    found = labels.label_set(_ds([2, 0, 10, 2]), "label", "x")
    assert found.names == ["0", "2", "10"]  # numeric order, not text order
    assert labels.with_label_ids(_ds([2, 0, 10, 2]), "label", found, "x")[labels.LABELS] == [1, 0, 2, 1]
    assert labels.label_set(_ds([True, False, True]), "label", "x").names == ["false", "true"]
    assert labels.label_set(_ds([1.0, 0.0, 1.0]), "label", "x").names == ["0", "1"]
    named = _ds([0, 1, 1]).cast_column("label", datasets.ClassLabel(names=["negative", "positive"]))
    found = labels.label_set(named, "label", "x")
    assert (found.names, found.counts) == (["negative", "positive"], [1, 2])


@pytest.mark.parametrize("values,expected", [
    (["only"] * 5, "only the label 'only'"),
    ([None, "", " "], "no labels at all"),
    ([0.5, 1.25, 2.0], "looks like regression"),
    (list(range(1500)), "1,500 different numbers; that looks like regression"),
    ([f"free text {i}" for i in range(1500)], "Did you mean it as the text"),
])
def test_columns_that_cannot_be_labels(values, expected):
    with pytest.raises(DataError, match=expected):
        labels.label_set(_ds(values), "label", "--label-column")


def test_warnings_for_rare_classes_and_imbalance():
    found = labels.label_set(_ds(["a"] * 90 + ["b"] * 6 + ["c"] * 4), "label", "x")
    warnings = " ".join(found.warnings())
    assert "'c' has fewer than 5 rows" in warnings and "22×" in warnings
    assert labels.label_set(_ds(["a", "b"] * 20), "label", "x").warnings() == []


def test_stratified_split_keeps_each_class_share():
    values = ["a"] * 80 + ["b"] * 20 + ["lonely"]
    ds = _ds(values)
    rows = labels.with_label_ids(ds, "label", labels.label_set(ds, "label", "x"), "x")
    train, validation = labels.stratified_split(rows, 0.2, seed=3)
    counts = collections.Counter(validation[labels.LABELS])
    assert counts == {0: 16, 1: 4}  # 'lonely' has one row: it stays in training
    assert len(train) + len(validation) == len(rows)
    assert not set(train["text"]) & set(validation["text"])
    assert labels.stratified_split(rows, 0.2, seed=3)[1]["text"] == validation["text"]
