"""A virtual table model over a `TablePreview`: rows are fetched in chunks as the view scrolls to them,
so a million-row file costs only what is on screen (plus a few cached chunks)."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from studio.core.data.preview import TablePreview

_CHUNK = 200
_CACHED_CHUNKS = 16


class DatasetTableModel(QAbstractTableModel):
    def __init__(self, preview: TablePreview | None = None) -> None:
        super().__init__()
        self._preview = preview
        self._chunks: OrderedDict[int, list[list[str]]] = OrderedDict()

    def set_preview(self, preview: TablePreview | None) -> None:
        self.beginResetModel()
        self._preview = preview
        self._chunks.clear()
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() or self._preview is None else len(self._preview)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() or self._preview is None else len(self._preview.columns)

    def _row(self, row: int) -> list[str]:
        key = row // _CHUNK
        chunk = self._chunks.get(key)
        if chunk is None:
            chunk = self._preview.rows(key * _CHUNK, _CHUNK)
            self._chunks[key] = chunk
            while len(self._chunks) > _CACHED_CHUNKS:
                self._chunks.popitem(last=False)
        else:
            self._chunks.move_to_end(key)
        return chunk[row - key * _CHUNK]

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or self._preview is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._row(index.row())[index.column()].replace("\n", "⏎ ")
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._row(index.row())[index.column()]
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != Qt.ItemDataRole.DisplayRole or self._preview is None:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self._preview.columns[section]
        return str(section + 1)
