"""What the Data panel shows: rows on demand, token statistics on a sample, text as coloured tokens.

Plain Python in and out, so the window never touches `datasets` or `tokenizers` objects directly.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from studio.core.control import Control
from studio.core.data import sources as data
from studio.core.data import tags
from studio.core.data.columns import Column, ColumnKind, map_columns, text_columns
from studio.core.data.encoding import TokenStats, encode, stats

_CELL_CHARS = 300
_STATS_ROWS = 20_000


class TablePreview:
    """Rows of a loaded dataset, fetched a slice at a time from the memory-mapped Arrow files."""

    def __init__(self, dataset: Any, label: str, builder: str) -> None:
        self._ds = dataset
        self.label = label
        self.builder = builder
        self.columns: list[str] = list(dataset.column_names)
        self.text_columns: list[str] = text_columns(dataset)

    def __len__(self) -> int:
        return len(self._ds)

    def rows(self, start: int, count: int) -> list[list[str]]:
        chunk = self._ds[start:start + count]
        n = len(next(iter(chunk.values()))) if chunk else 0
        return [[_cell(chunk[c][i]) for c in self.columns] for i in range(n)]

    def texts(self, column: str, limit: int) -> list[str]:
        rows = self._ds.select(range(min(limit, len(self._ds)))) if len(self._ds) > limit else self._ds
        return [data.joined(t) for t in rows[column]]

    def row_text(self, column: str, row: int) -> str:
        """One row's text in `column` ("" past the end)."""
        return data.joined(self._ds[row][column]) if 0 <= row < len(self._ds) else ""

    def iter_texts(self, columns: list[str]) -> Iterator[str]:
        return data.iter_texts(self._ds, columns)

    def mapping(self, roles: tuple[Column, ...], wanted: dict[str, str], controls: dict[str, str]
                ) -> dict[str, str]:
        """The columns for a task's roles (see data.columns.map_columns)."""
        return map_columns(self._ds, roles, wanted, controls)

    def counts(self, kind: ColumnKind, column: str, control: str) -> Any:
        """The classes of a column whose kind counts them (labels, tags) and their counts, as a LabelSet (the
        whole column, read from Arrow)."""
        return kind.count(self._ds, column, control)

    def tagged_example(self, words: str, tag_column: str) -> tuple[list[str], list[str]]:
        """The first row (of the first hundred) that has an entity, as its words and tag names."""
        rows = self._ds.select(range(min(100, len(self._ds))))
        names = getattr(self._ds.features[tag_column].feature, "names", None)
        for row_words, row_tags in zip(rows[words], rows[tag_column]):
            named = [names[t] if names else str(t) for t in row_tags or []]
            if any(t != tags.OUTSIDE for t in named) and len(named) == len(row_words or []):
                return list(row_words), named
        return [], []

    @property
    def dataset(self) -> Any:
        """The loaded rows, for a task's own checks (the window never reads them directly)."""
        return self._ds


def _cell(value: Any) -> str:
    if isinstance(value, list) and value and all(isinstance(m, dict) for m in value):
        # messages read as a transcript, not as the Python of a list of dicts
        text = "\n".join(f"{m.get('role') or m.get('from') or '?'}: {m.get('content') or m.get('value') or ''}"
                          for m in value)
    else:
        text = "" if value is None else str(value)
    return text if len(text) <= _CELL_CHARS else text[:_CELL_CHARS] + "…"


def open_preview(source: str, cache: Path) -> TablePreview:
    resolved = data.resolve(source, cache)
    return TablePreview(data.load_resolved(resolved, cache), resolved.label, resolved.builder)


def token_stats(preview: TablePreview, tokenizer: Any, column: str, limit: int,
                control: Control | None = None) -> TokenStats:
    """Token statistics of up to 20,000 rows (a sample keeps the panel quick on huge files)."""
    texts = preview.texts(column, _STATS_ROWS)
    lengths = []
    for i in range(0, len(texts), 1000):
        if control is not None:
            control.checkpoint()
        lengths.extend(len(ids) for ids in encode(tokenizer, texts[i:i + 1000]))
    return stats(np.asarray(lengths, dtype=np.int64), sum(map(len, texts)), limit)


def token_pieces(tokenizer: Any, text: str, limit: int = 400) -> list[str]:
    """`text` cut into the strings of its tokens, for showing token boundaries."""
    ids = tokenizer(text, add_special_tokens=False)["input_ids"][:limit]
    return [tokenizer.decode([i]) for i in ids]


