"""Exporting what the Attention panel shows: the map as PNG, its matrix as CSV with the tokens, and
every layer and head as NPZ. Each write is checked, and a failure is said in the panel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QFileDialog

from studio.core.errors import StudioError


class ExportActions:
    """Mixed into the panel, which holds `heatmap`, `attention`, `error`, `current_kind()` and
    `current_matrix()`."""

    def _save_path(self, title: str, default: str, filters: str) -> Path | None:
        path, _ = QFileDialog.getSaveFileName(self, title, default, filters)
        return Path(path) if path else None

    def choose_png(self) -> None:
        if (path := self._save_path("Save the map as PNG", "attention.png", "PNG (*.png)")) is not None:
            self.export_png(path)

    def choose_csv(self) -> None:
        if (path := self._save_path("Save the matrix as CSV", "attention.csv", "CSV (*.csv)")) is not None:
            self.export_csv(path)

    def choose_npz(self) -> None:
        if (path := self._save_path("Save all layers and heads", "attention.npz", "NumPy (*.npz)")) is not None:
            self.export_npz(path)

    def _export(self, write: Any, path: Path) -> bool:
        self.error.clear_message()
        if not path.parent.is_dir():
            self.error.show_message(f"The folder '{path.parent}' does not exist; choose another.")
            return False
        try:
            write(path)
        except (OSError, StudioError) as exc:
            self.error.show_message(f"Cannot write '{path.name}': {getattr(exc, 'strerror', None) or exc}.")
            return False
        return True

    def export_png(self, path: Path) -> bool:
        def write(target: Path) -> None:
            if not self.heatmap.grab().save(str(target)):
                raise OSError(0, "the image could not be written")

        return self._export(write, path)

    def export_csv(self, path: Path) -> bool:
        from studio.core.attention.extract import write_csv

        current = self.current_kind()
        return self._export(lambda p: write_csv(p, self.current_matrix(), current["rows"], current["columns"]), path)

    def export_npz(self, path: Path) -> bool:
        return self._export(self.attention.save_npz, path)
