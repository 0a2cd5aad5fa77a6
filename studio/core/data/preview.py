"""What the Data panel shows: rows on demand, token statistics on a sample, text as coloured tokens.

Plain Python in and out, so the window never touches `datasets` or `tokenizers` objects directly.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from studio.core.data import sources as data
from studio.core.control import Control
from studio.core.data.encoding import TokenStats, stats

_CELL_CHARS = 300
_STATS_ROWS = 20_000


class TablePreview:
    """Rows of a loaded dataset, fetched a slice at a time from the memory-mapped Arrow files."""

    def __init__(self, dataset: Any, label: str, builder: str) -> None:
        self._ds = dataset
        self.label = label
        self.builder = builder
        self.columns: list[str] = list(dataset.column_names)
        self.text_columns: list[str] = data.string_columns(dataset)

    def __len__(self) -> int:
        return len(self._ds)

    def rows(self, start: int, count: int) -> list[list[str]]:
        chunk = self._ds[start:start + count]
        n = len(next(iter(chunk.values()))) if chunk else 0
        return [[_cell(chunk[c][i]) for c in self.columns] for i in range(n)]

    def texts(self, column: str, limit: int) -> list[str]:
        rows = self._ds.select(range(min(limit, len(self._ds)))) if len(self._ds) > limit else self._ds
        return [t or "" for t in rows[column]]

    def iter_texts(self, columns: list[str]) -> Iterator[str]:
        return data.iter_texts(self._ds, columns)

    def mapping(self, task: str, columns: data.ColumnMap, controls: dict[str, str] = data.CLI_CONTROLS
                ) -> data.ColumnMap:
        return data.map_columns(self._ds, task, columns, controls)


def _cell(value: Any) -> str:
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
        batch = tokenizer.backend_tokenizer.encode_batch(texts[i:i + 1000], add_special_tokens=False)
        lengths.extend(len(e.ids) + 1 for e in batch)
    return stats(np.asarray(lengths, dtype=np.int64), sum(map(len, texts)), limit)


def token_pieces(tokenizer: Any, text: str, limit: int = 400) -> list[str]:
    """`text` cut into the strings of its tokens, for showing token boundaries."""
    ids = tokenizer(text, add_special_tokens=False)["input_ids"][:limit]
    return [tokenizer.decode([i]) for i in ids]


