"""A run's best evaluation, its training time over resumed sessions, its label, the overfitting warning,
the settings two runs differ in, and its history as CSV."""

from __future__ import annotations

import csv
import io

import pytest

from studio.core.errors import RunError
from studio.core.runs import compare, labels, layout, reader, summary, writer
from studio.core.system.files import atomic_write_text


def _run(tmp_path, name: str, rows: list[tuple[int, dict]], config: str = "[run]\ntask = 'lm'\n"):
    run_dir = tmp_path / name
    run_dir.mkdir()
    atomic_write_text(run_dir / layout.CONFIG_FILE, config)
    store = writer.RunStore(run_dir)
    store.mark_running(100)
    for step, values in rows:
        store.log(step, values)
    return run_dir, store


def test_best_evaluation_each_way_and_time_over_sessions(tmp_path, monkeypatch):
    run_dir, store = _run(tmp_path, "a", [(10, {"eval_loss": 2.0, "eval_accuracy": 0.5}),
                                          (20, {"eval_loss": 1.5, "eval_accuracy": 0.7}),
                                          (30, {"eval_loss": 1.8, "eval_accuracy": 0.6})])
    clock = iter([1000.0, 1060.0, 2000.0, 2030.0])
    monkeypatch.setattr(writer.time, "time", lambda: next(clock))
    store.mark_running(100)  # started 1000
    store.mark_finished("stopped")  # 60 s
    store.mark_running(100)  # resumed much later, at 2000
    store.mark_finished("completed")  # 30 s more
    info = reader.read(run_dir)
    assert summary.best(info, "eval_loss", higher_is_better=False) == (20, 1.5)
    assert summary.best(info, "eval_accuracy", higher_is_better=True) == (20, 0.7)
    assert summary.best(info, "eval_f1", higher_is_better=True) is None
    assert summary.trained_seconds(info) == pytest.approx(90.0)  # not the 1,030 s between first start and end
    store.close()


def test_label_is_kept_beside_the_run_and_survives_bad_files(tmp_path):
    run_dir, store = _run(tmp_path, "b", [])
    labels.set_label(run_dir, title="  baseline  ")
    labels.set_label(run_dir, notes="lr 1e-3, before the data fix")
    info = reader.read(run_dir)
    assert (info.title, info.notes) == ("baseline", "lr 1e-3, before the data fix")
    (run_dir / labels.LABEL_FILE).write_text("{not json", encoding="utf-8")
    assert reader.read(run_dir).title == ""  # a damaged label never hides the run
    store.close()


def test_overfitting_warns_only_when_validation_rises_while_training_falls():
    falling = [{"step": s, "train_loss": 3.0 - s / 100} for s in range(10, 310, 10)]
    evaluations = {50: 1.2, 100: 0.99, 150: 1.1, 200: 1.3, 250: 1.5, 300: 1.7}
    history = [dict(row, **({"eval_loss": evaluations[row["step"]]} if row["step"] in evaluations else {}))
               for row in falling]
    warning = summary.overfitting(history)
    assert warning and "0.990 at step 100" in warning and "1.700 at step 300" in warning
    assert summary.overfitting(history[:-10]) is None  # two rises are not yet a trend
    flat_training = [dict(row, train_loss=1.0) for row in history]
    assert summary.overfitting(flat_training) is None  # both getting worse: not overfitting


def test_config_diff_and_history_csv(tmp_path):
    a, store_a = _run(tmp_path, "c", [(1, {"train_loss": 4.0}), (2, {"train_loss": 3.5, "eval_loss": 3.9})],
                      "[run]\ntask = 'lm'\nlr = 0.001\nseed = 1\n")
    b, store_b = _run(tmp_path, "d", [], "[run]\ntask = 'lm'\nlr = 0.0003\nseed = 1\nlora = true\n")
    assert compare.config_diff(a, b) == [("lora", None, True), ("lr", 0.001, 0.0003)]
    rows = list(csv.DictReader(io.StringIO(compare.history_csv(reader.read(a).history))))
    assert [r["step"] for r in rows] == ["1", "2"] and rows[0]["eval_loss"] == "" and rows[1]["eval_loss"] == "3.9"
    for store in (store_a, store_b):
        store.close()


def test_delete_refuses_a_running_run(tmp_path):
    run_dir, store = _run(tmp_path, "e", [])
    with pytest.raises(RunError, match="still training"):
        writer.delete(run_dir)
    store.mark_finished("stopped")
    store.close()
    writer.delete(run_dir)
    assert not run_dir.exists()
