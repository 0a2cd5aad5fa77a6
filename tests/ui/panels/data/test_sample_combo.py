"""The samples menu offers a translation sample for each language this machine has catalogues for, read when it
first opens."""

from __future__ import annotations

import os

from PySide6.QtCore import Qt

from studio.core.data import messages_sample
from tests.core.data.test_messages_sample import write_mo

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def test_the_menu_offers_the_machines_languages_most_catalogues_first(qtbot, tmp_path, monkeypatch):
    from studio.ui.panels.data.sample_combo import SampleCombo

    root = tmp_path / "locale"
    write_mo(root / "pt_BR" / "LC_MESSAGES" / "a.mo", {"Open": "Abrir"})
    for name in ("a", "b"):
        write_mo(root / "sv" / "LC_MESSAGES" / f"{name}.mo", {"Open": "Öppna"})
    monkeypatch.setattr(messages_sample, "LOCALE_DIRS", (root,))
    combo = SampleCombo()
    qtbot.addWidget(combo)
    before = [combo.itemData(i) for i in range(combo.count())]
    assert "sample:messages-de" in before and "sample:python-qa" in before
    combo.read_languages()
    after = [combo.itemData(i) for i in range(combo.count())]
    messages = [s for s in after if s.startswith("sample:messages-")]
    assert messages == ["sample:messages-sv", "sample:messages-pt_BR"]
    assert [s for s in after if not s.startswith("sample:messages-")] == \
        [s for s in before if not s.startswith("sample:messages-")]  # the others keep their places
    tip = combo.itemData(after.index("sample:messages-sv"), Qt.ItemDataRole.ToolTipRole)
    assert "into sv" in tip and "2 of this machine's catalogues" in tip
    combo.read_languages()  # once only
    assert [combo.itemData(i) for i in range(combo.count())] == after


def test_the_open_dialog_offers_every_kind_of_file_the_loader_reads():
    from studio.core.data import sources
    from studio.ui.panels.data.panel import OPEN_FILTER

    assert all(f"*{suffix}" in OPEN_FILTER for suffix in sources.BUILDERS) and "*.conll" in OPEN_FILTER


def test_rows_over_the_limit_are_counted_not_rounded_away():
    from types import SimpleNamespace

    from studio.ui.panels.data.tokens_box import _rows_over

    assert _rows_over(SimpleNamespace(truncated_share=1 / 300, rows=300)) == "1 row is (0.3%)"
    assert _rows_over(SimpleNamespace(truncated_share=0.0, rows=300)) == "no row is"
    assert _rows_over(SimpleNamespace(truncated_share=0.5, rows=300)) == "150 rows are (50.0%)"
