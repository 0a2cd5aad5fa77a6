"""Tag columns for token classification: a list of tags per row, one per word. Read before training:
the tag set and counts, the rows whose words and tags do not pair up, and the tag ids a model trains on.

Tags are words (BIO such as B-PER/I-PER/O, or plain IO such as PER/O) or numbers with names (a
`datasets` ClassLabel, as CoNLL-2003 is stored). Everything runs on the Arrow columns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from studio.core.data.labels import LabelSet
from studio.core.errors import DataError

if TYPE_CHECKING:
    from datasets import Dataset

TAG_IDS = "tag_ids"  # the column of tag id lists that models read (through the word alignment)
MAX_TAGS = 500
OUTSIDE = "O"


def _list(ds: Dataset, name: str) -> Any:
    import pyarrow as pa

    column = ds.with_format("arrow")[name]
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column


def check_pairs(ds: Dataset, words: str, tags: str, controls: dict[str, str]) -> None:
    """Raise `DataError` naming the first row whose words and tags differ in number, or that has a null (a
    JSON null, an empty cell) among its words or tags."""
    import pyarrow.compute as pc

    for name, what, fix in ((words, "word", "write every word out, or drop it and its tag"),
                            (tags, "tag", "every word needs a tag (O for none)")):
        column = _list(ds, name)
        nulls = np.flatnonzero(np.asarray(pc.is_null(pc.list_flatten(column)).to_numpy(zero_copy_only=False)))
        if len(nulls):
            row = int(pc.list_parent_indices(column)[int(nulls[0])].as_py())
            place = int(nulls[0]) - int(column.offsets[row].as_py())
            raise DataError(f"Row {row + 1} has a null {what} at place {place + 1} of '{name}'; {fix}. Fix the data, "
                            f"or choose other columns with {controls['tokens']} and {controls['tags']}.")

    n_words = np.asarray(pc.list_value_length(_list(ds, words)).fill_null(0).to_numpy(zero_copy_only=False))
    n_tags = np.asarray(pc.list_value_length(_list(ds, tags)).fill_null(0).to_numpy(zero_copy_only=False))
    wrong = np.flatnonzero(n_words != n_tags)
    if len(wrong):
        row = int(wrong[0])
        raise DataError(f"Row {row + 1} has {n_words[row]} words in '{words}' but {n_tags[row]} tags in '{tags}'; "
                        f"every word needs exactly one tag ({len(wrong):,} rows differ). Fix the data, or choose "
                        f"other columns with {controls['tokens']} and {controls['tags']}.")


def tag_set(ds: Dataset, name: str, control: str) -> LabelSet:
    """The tags used in column `name` and how often; `missing` counts rows with no words."""
    import pyarrow as pa
    import pyarrow.compute as pc

    feature = ds.features[name].feature
    column = _list(ds, name)
    flat = pc.list_flatten(column)
    empty = int(pc.sum(pc.equal(pc.list_value_length(column).fill_null(0), 0)).as_py() or 0)
    if type(feature).__name__ == "ClassLabel":
        names = list(feature.names)
        counts = np.bincount(np.asarray(flat.to_numpy(zero_copy_only=False), dtype=np.int64),
                             minlength=len(names))[:len(names)].tolist()
        return LabelSet(names, counts, empty, per_word=True)
    if not (pa.types.is_string(flat.type) or pa.types.is_large_string(flat.type)):
        raise DataError(f"The tag column '{name}' holds numbers without names, so nobody could read its entities; "
                        "give the tags as words (B-PER, I-PER, O, ...) or as a ClassLabel with names (what "
                        f"`datasets` saves for CoNLL-2003), or choose another column with {control}.")
    counted = pc.value_counts(flat)
    found = dict(zip(counted.field("values").to_pylist(), counted.field("counts").to_pylist()))
    if len(found) > MAX_TAGS:
        raise DataError(f"The tag column '{name}' has {len(found):,} different tags; tags are a few kinds (B-PER, "
                        f"O, ...). Choose the column of tags with {control}.")
    if len(found) < 2:
        raise DataError(f"The tag column '{name}' has {'only the tag ' + repr(next(iter(found))) if found else 'no tags'}"
                        f"; a tagger needs at least two. Choose another column with {control}.")
    names = sorted(found, key=_order)
    return LabelSet(names, [found[n] for n in names], empty, per_word=True)


def _order(tag: str) -> tuple[int, str, str]:
    """O first, then by entity type, B- before I- (how people read a tag list)."""
    if tag == OUTSIDE:
        return (0, "", "")
    prefix, _, kind = tag.partition("-") if tag[:2] in ("B-", "I-", "E-", "S-") else ("", "", tag)
    return (1, kind, prefix)


def with_tag_ids(ds: Dataset, name: str, found: LabelSet) -> Dataset:
    """`ds` without rows that have no words, with a `tag_ids` column of id lists into `found.names`."""
    import pyarrow as pa
    import pyarrow.compute as pc

    column = _list(ds, name)
    flat = pc.list_flatten(column)
    if type(ds.features[name].feature).__name__ != "ClassLabel":
        flat = pc.index_in(flat, value_set=pa.array(found.names, flat.type))
    ids = pa.ListArray.from_arrays(column.offsets, pc.cast(flat, pa.int64()))
    out = ds.remove_columns([TAG_IDS]) if TAG_IDS in ds.column_names else ds
    out = out.add_column(TAG_IDS, ids)
    lengths = np.asarray(pc.list_value_length(column).fill_null(0).to_numpy(zero_copy_only=False))
    keep = np.flatnonzero(lengths > 0)
    return out if len(keep) == len(out) else out.select(keep)


def entity_types(names: list[str]) -> list[str]:
    """The entity types of a tag set: PER from B-PER/I-PER, or from a plain IO tag."""
    kinds = []
    for tag in names:
        if tag == OUTSIDE:
            continue
        kind = tag[2:] if tag[:2] in ("B-", "I-", "E-", "S-") else tag
        if kind not in kinds:
            kinds.append(kind)
    return kinds


def scheme_tags(tags: list[str]) -> list[str]:
    """Tags as seqeval reads them: a plain IO tag (PER) becomes I-PER; BIO tags stay as they are."""
    return [t if t == OUTSIDE or t[:2] in ("B-", "I-", "E-", "S-") else f"I-{t}" for t in tags]
