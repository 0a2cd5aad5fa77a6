"""The built-in samples menu. The translation samples are one per language this machine has message catalogues
for, read when the menu first opens (scanning /usr/share/locale takes a tenth of a second, which the window's
start should not pay)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox

from studio.core.data import samples


class SampleCombo(QComboBox):
    def __init__(self) -> None:
        super().__init__(objectName="sampleCombo")
        self.setToolTip("Data built on this machine from Python's standard library and the programs' own "
                        "translations, one for each task")
        self.addItem("Built-in sample…", "")
        for name, description in samples.SAMPLES.items():
            self._add(name, description)
        self._languages_read = False

    def _add(self, name: str, description: str, at: int | None = None) -> None:
        at = self.count() if at is None else at
        self.insertItem(at, f"sample:{name}", f"sample:{name}")
        self.setItemData(at, description, Qt.ItemDataRole.ToolTipRole)

    def read_languages(self) -> None:
        """Offer the machine's own languages in place of the three the menu starts with."""
        if self._languages_read:
            return
        self._languages_read = True
        fixed = [i for i in range(self.count()) if samples.is_messages(self.itemData(i) or "")]
        at = fixed[0] if fixed else self.count()
        for i in reversed(fixed):
            self.removeItem(i)
        for offset, (name, description) in enumerate(samples.message_samples().items()):
            self._add(name, description, at + offset)

    def showPopup(self) -> None:
        self.read_languages()
        super().showPopup()
