"""The Runs tab: the columns people compare runs by, sorting and filtering, rename and notes, a settings
diff, the history as CSV, delete to the trash (never silently), and the model opened where it is used."""

from __future__ import annotations

import csv
from pathlib import Path

from PySide6.QtCore import QFile, Qt
from PySide6.QtWidgets import QInputDialog, QMessageBox

from studio.core.runs import layout, reader, writer
from studio.core.system import workspace
from studio.core.system.files import atomic_write_text
from studio.ui.panels.train import runs_view
from studio.ui.panels.train.runs_view import BEST, DURATION, NAME, STARTED, STATUS, STEPS
from tests.ui.helpers import listed


def _make(name: str, task: str, evals: list[float], status: str, lr: float, seconds: float) -> Path:
    run_dir = workspace.runs_dir(workspace.workspace()) / name
    run_dir.mkdir(parents=True)
    atomic_write_text(run_dir / layout.CONFIG_FILE, f"[run]\ntask = '{task}'\nmodel = 'bert-tiny'\nlr = {lr}\n")
    store = writer.RunStore(run_dir)
    store.mark_running(300)
    for i, value in enumerate(evals, 1):
        store.log(i * 100, {"train_loss": 2.0 / i, "eval_loss": 1.0, "eval_accuracy": value, "eval_f1": value})
    store.set_meta(started=1_700_000_000.0 + len(name), trained_seconds=seconds)
    store.mark_finished(status)
    store.set_meta(trained_seconds=seconds)
    store.close()
    return run_dir


def test_columns_sorting_and_filter(window, qtbot):
    _make("alpha", "classify", [0.5, 0.9, 0.7], "completed", 1e-3, 75)
    _make("beta", "classify", [0.6, 0.65], "stopped", 3e-4, 4000)
    view = window.train_panel.runs
    window.train_panel.tabs.setCurrentIndex(2)
    listed(qtbot, view)
    table = view.table
    row = view.row_of("alpha")
    assert table.item(row, BEST).text() == "Accuracy 90.0% @ 200"  # the best evaluation, not the last
    assert table.item(row, DURATION).text() == "1 min 15 s" and table.item(row, STEPS).text() == "300 / 300"
    assert "preparing the data is not counted" in table.horizontalHeaderItem(DURATION).toolTip()
    table.sortByColumn(BEST, Qt.SortOrder.DescendingOrder)
    assert [table.item(r, NAME).text() for r in range(2)] == ["alpha", "beta"]
    table.sortByColumn(DURATION, Qt.SortOrder.DescendingOrder)  # by seconds, not by text
    assert [table.item(r, NAME).text() for r in range(2)] == ["beta", "alpha"]
    view.filter.setText("stopped")
    assert [table.item(r, NAME).text() for r in range(2) if not table.isRowHidden(r)] == ["beta"]
    view.filter.clear()
    assert not any(table.isRowHidden(r) for r in range(2))
    window.tabs.setCurrentWidget(window.train_panel)
    window.resize(1200, 800)
    qtbot.wait(100)
    # the name takes the room the short columns leave; the start time does not stretch across it
    assert table.columnWidth(NAME) > 2 * table.columnWidth(STARTED)


def test_rename_notes_diff_and_csv(window, qtbot, monkeypatch, tmp_path):
    alpha = _make("alpha", "classify", [0.5, 0.9], "completed", 1e-3, 10)
    _make("beta", "classify", [0.6], "stopped", 3e-4, 10)
    view = window.train_panel.runs
    view.refresh()
    listed(qtbot, view)
    view.select(["alpha"])
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("baseline, lr 1e-3", True))
    view.actions["rename"].trigger()
    listed(qtbot, view)
    assert view.table.item(view.row_of("alpha"), NAME).text() == "baseline, lr 1e-3"
    assert alpha.is_dir() and reader.read(alpha).title == "baseline, lr 1e-3"  # the folder keeps its name
    assert "Folder: alpha" in view.table.item(view.row_of("alpha"), NAME).toolTip()
    view.filter.setText("baseline")  # the filter finds a run by its new name
    assert sum(not view.table.isRowHidden(r) for r in range(2)) == 1
    view.filter.clear()

    view.select(["alpha", "beta"])
    assert view.actions["diff"].isEnabled()
    shown = []
    monkeypatch.setattr(runs_view.DiffDialog, "exec", lambda self: shown.append(self) or 0)
    view.actions["diff"].trigger()
    table = shown[0].table
    assert [table.item(r, 0).text() for r in range(table.rowCount())] == ["lr"]

    assert view.export_csv(alpha, tmp_path / "alpha.csv")
    rows = list(csv.DictReader((tmp_path / "alpha.csv").open(encoding="utf-8")))
    assert [r["step"] for r in rows] == ["100", "200"] and rows[1]["eval_accuracy"] == "0.9"
    assert not view.export_csv(alpha, tmp_path / "alpha.csv" / "x.csv") and "Could not write" in view.error.text()


def test_delete_asks_then_uses_the_trash_and_never_deletes_silently(window, qtbot, monkeypatch):
    alpha = _make("alpha", "classify", [0.5], "completed", 1e-3, 10)
    view = window.train_panel.runs
    view.refresh()
    listed(qtbot, view)
    view.select(["alpha"])
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    view.actions["delete"].trigger()
    listed(qtbot, view)
    assert alpha.is_dir() and view.table.rowCount() == 1  # said no: nothing happens
    trashed = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    monkeypatch.setattr(QFile, "moveToTrash", lambda path: trashed.append(path) or False)  # no trash here
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: QMessageBox.StandardButton.No)
    view.actions["delete"].trigger()
    listed(qtbot, view)
    assert trashed == [str(alpha)] and alpha.is_dir()  # no trash and no second yes: kept
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: QMessageBox.StandardButton.Yes)
    view.select(["alpha"])
    view.actions["delete"].trigger()
    listed(qtbot, view)
    assert not alpha.exists() and view.table.rowCount() == 0


def test_a_run_with_a_model_opens_in_playground_and_attention(window, qtbot, lm_run, monkeypatch):
    monkeypatch.setenv("STUDIO_WORKSPACE", str(lm_run.parent.parent))
    view = window.train_panel.runs
    view.refresh()
    listed(qtbot, view)
    view.select([lm_run.name])
    assert view.playground_button.isEnabled() and view.attention_button.isEnabled()
    with qtbot.waitSignal(view.open_model) as caught:
        view.playground_button.click()
    assert caught.args == [str(lm_run), "playground"]
    assert window.tabs.currentWidget() is window.playground_panel
    assert view.table.item(view.row_of(lm_run.name), STATUS).text() == "completed"
