"""A label column, read before training: its classes and counts, the rows without a label, the checks
that catch a wrong column, and the label ids a classifier trains on.

Everything runs on the Arrow column (one column of a memory-mapped file), so counting the labels of a
large file does not read its text into memory.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from studio.core.errors import DataError

if TYPE_CHECKING:
    from datasets import Dataset

MAX_CLASSES = 1000
FEW_ROWS = 5  # a class with fewer rows than this is barely learnable
IMBALANCE = 10.0  # largest class over smallest: accuracy stops saying much beyond this
LABELS = "labels"  # the column of label ids that models read


@dataclass
class LabelSet:
    names: list[str]  # in id order
    counts: list[int]
    missing: int  # rows with no label; left out of training
    per_word: bool = False  # tags, counted per word: most words are outside any entity, so no imbalance warning

    def warnings(self) -> list[str]:
        """Sentences about a label set that will train badly, for the Data panel and the run's log."""
        out = []
        few = [n for n, c in zip(self.names, self.counts) if c < FEW_ROWS]
        unit = "words" if self.per_word else "rows"
        if few:
            shown = ", ".join(f"'{n}'" for n in few[:5]) + (" and more" if len(few) > 5 else "")
            out.append(f"{shown} {'has' if len(few) == 1 else 'have'} fewer than {FEW_ROWS} {unit}; the model will "
                       "hardly learn {} — add data or merge them.".format("it" if len(few) == 1 else "them"))
        if self.per_word:
            return out
        if self.counts and min(self.counts) > 0 and max(self.counts) / min(self.counts) >= IMBALANCE:
            ratio = max(self.counts) / min(self.counts)
            out.append(f"The largest class has {ratio:.0f}× the rows of the smallest; accuracy will flatter the "
                       "model, so watch macro F1.")
        return out

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _column(ds: Dataset, name: str) -> Any:
    import pyarrow as pa

    column = ds.with_format("arrow")[name]
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column


def _values(ds: Dataset, name: str, control: str) -> tuple[Any, list[str] | None]:
    """The column as Arrow values ready to count (trimmed strings, or integers) and, for a ClassLabel
    column, its names."""
    import pyarrow as pa
    import pyarrow.compute as pc

    feature = ds.features[name]
    values = _column(ds, name)
    if type(feature).__name__ == "ClassLabel":
        return pc.if_else(pc.less(values, 0), pa.scalar(None, values.type), values), list(feature.names)
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        trimmed = pc.utf8_trim_whitespace(values)
        return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, trimmed.type), trimmed), None
    if pa.types.is_boolean(values.type) or pa.types.is_integer(values.type):
        return values, None
    if pa.types.is_floating(values.type):
        finite = values.to_numpy(zero_copy_only=False)
        finite = finite[np.isfinite(finite)]
        distinct = len(np.unique(finite))
        if distinct > 50 or not np.all(np.equal(np.mod(finite, 1), 0)):
            raise DataError(f"The label column '{name}' holds {distinct:,} different numbers; that looks like "
                            "regression (predicting a number), which Studio does not offer. Choose a column of "
                            f"categories with {control}.")
        return pc.cast(values, pa.int64()), None
    raise DataError(f"The label column '{name}' holds {values.type}, not one label per row; choose a column of "
                    f"words or whole numbers with {control}.")


def label_set(ds: Dataset, name: str, control: str) -> LabelSet:
    """Read the classes of column `name`; raise `DataError` for a column that cannot be a label."""
    import pyarrow as pa
    import pyarrow.compute as pc

    values, names = _values(ds, name, control)
    missing = int(values.null_count)
    counted = pc.value_counts(values.drop_null()) if len(values) > missing else pa.array([])
    found = {} if len(counted) == 0 else dict(zip(counted.field("values").to_pylist(),
                                                  counted.field("counts").to_pylist()))
    numeric = not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type))
    if names is None and len(found) > MAX_CLASSES:
        if numeric:
            raise DataError(f"The label column '{name}' holds {len(found):,} different numbers; that looks like "
                            "regression (predicting a number), which Studio does not offer. Choose a column of "
                            f"categories with {control}.")
        raise DataError(f"The label column '{name}' has {len(found):,} different values in {len(values):,} rows; "
                        f"a label column holds a few categories. Did you mean it as the text? Choose the column "
                        f"of labels with {control}.")
    if names is None:
        keys = sorted(found)  # numbers in numeric order, words in alphabetical order
        names = [_name(k) for k in keys]
        counts = [found[k] for k in keys]
    else:
        counts = [found.get(i, 0) for i in range(len(names))]
    if sum(1 for c in counts if c) < 2:
        only = next((n for n, c in zip(names, counts) if c), None)
        what = f"only the label '{only}'" if only is not None else "no labels at all"
        raise DataError(f"The label column '{name}' has {what}; a classifier needs at least two classes. Choose "
                        f"another column with {control}, or add rows of other classes.")
    return LabelSet(names=names, counts=counts, missing=missing)


def _name(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    return str(value)


def with_label_ids(ds: Dataset, name: str, labels: LabelSet, control: str) -> Dataset:
    """`ds` without its unlabelled rows, with a `labels` column of ids into `labels.names`."""
    import pyarrow as pa
    import pyarrow.compute as pc

    values, class_names = _values(ds, name, control)
    if class_names is None:  # ids are positions in the sorted names, matched in Arrow
        values = pc.index_in(values, value_set=pc.cast(pa.array(labels.names), values.type))
    ids = np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float64)
    keep = np.flatnonzero(np.isfinite(ids))
    out = ds.remove_columns([LABELS]) if LABELS in ds.column_names else ds
    out = out.add_column(LABELS, np.nan_to_num(ids, nan=-1).astype(np.int64))
    return out if len(keep) == len(out) else out.select(keep)


def stratified_split(ds: Dataset, fraction: float, seed: int) -> tuple[Dataset, Dataset]:
    """A train/validation split that keeps each class's share, by `labels` id.

    Written here because `datasets` and scikit-learn refuse a class with a single row and a validation
    set smaller than the number of classes; here such a class simply stays in training.
    """
    if len(ds) < 2:
        raise DataError("The data has a single labelled row; a run needs at least two (one to validate on).")
    labels = np.asarray(ds.with_format("arrow")[LABELS].to_numpy(), dtype=np.int64)
    rng = np.random.default_rng(seed)
    validation = []
    for label in np.unique(labels):
        rows = np.flatnonzero(labels == label)
        rng.shuffle(rows)
        take = min(len(rows) - 1, round(len(rows) * fraction))
        validation.extend(rows[:take].tolist())
    if not validation:
        validation = [int(rng.integers(len(ds)))]
    chosen = np.zeros(len(ds), dtype=bool)
    chosen[validation] = True
    train = np.flatnonzero(~chosen)
    rng.shuffle(train)
    return ds.select(train), ds.select(np.sort(np.asarray(validation)))
