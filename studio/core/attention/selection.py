"""Leaving tokens out of a map (the template's special tokens), keeping a conversation's turns in place."""

from __future__ import annotations

import bisect

import numpy as np

Turns = list[tuple[str, int, int]]


def without_tokens(matrix: np.ndarray, rows: list[str], columns: list[str], hidden: set[str], turns: Turns
                   ) -> tuple[np.ndarray, list[str], list[str], Turns]:
    """The map without the `hidden` tokens' rows and columns (weights not renormalised), its turns moved
    to the tokens kept; everything as it was when nothing would be left."""
    keep_rows = [i for i, t in enumerate(rows) if t not in hidden]
    keep_columns = [i for i, t in enumerate(columns) if t not in hidden]
    if not keep_rows or not keep_columns:
        return matrix, rows, columns, turns
    moved = [(role, bisect.bisect_left(keep_rows, start), bisect.bisect_left(keep_rows, end))
             for role, start, end in turns]
    return (matrix[np.ix_(keep_rows, keep_columns)], [rows[i] for i in keep_rows],
            [columns[i] for i in keep_columns], [t for t in moved if t[2] > t[1]])
