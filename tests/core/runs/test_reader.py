"""The run list's figures come from SQL aggregates; they must be the very figures a full read computes
from every metric row (the Runs tab and `runs list` show the one, `runs show` the other)."""

from __future__ import annotations

import random

from studio.core.runs import layout, reader, writer


def _logged(run_dir, seed: int) -> None:
    rng = random.Random(seed)
    store = writer.RunStore(run_dir)
    store.mark_running(400)
    for step in range(10, 410, 10):
        store.log(step, {"loss": rng.uniform(0, 3), "learning_rate": 1e-3 * rng.random(), "tokens_seen": step * 64})
        if step % 50 == 0:
            values = {"eval_loss": rng.choice([1.0, 2.0, rng.uniform(0, 3)]), "eval_accuracy": rng.random(),
                      "eval_f1": float("nan") if step == 100 else rng.random()}
            store.log(step, values)
    store.log(400, {"train_runtime": 12.5})
    store.mark_finished("completed")
    store.close()


def test_listing_aggregates_equal_a_full_read(tmp_path):
    for seed in range(5):
        run_dir = tmp_path / f"run-{seed}"
        run_dir.mkdir()
        _logged(run_dir, seed)
        full = reader.read(run_dir)
        listed = reader.read(run_dir, with_history=False)
        assert listed.history == [] and full.history
        assert listed.last == full.last and list(listed.last) == list(full.last)
        assert listed.extremes == full.extremes and set(full.extremes) == {"eval_loss", "eval_accuracy", "eval_f1"}
        assert full.extremes["eval_loss"]["min_step"] == min(
            row["step"] for row in full.history if row.get("eval_loss") == full.extremes["eval_loss"]["min"])


def test_a_run_with_nothing_logged_lists_empty(tmp_path):
    writer.RunStore(tmp_path).close()
    info = reader.read(tmp_path, with_history=False)
    assert info.last == {} and info.extremes == {} and info.global_step == 0


def test_list_runs_reads_every_run_newest_first(tmp_path):
    for seed in range(3):
        (tmp_path / f"run-{seed}").mkdir()
        _logged(tmp_path / f"run-{seed}", seed)
    (tmp_path / "not-a-run").mkdir()
    listed = reader.list_runs(tmp_path)
    assert [i.name for i in listed] == ["run-2", "run-1", "run-0"]


def test_list_skips_damaged_runs(tmp_path):
    good = tmp_path / "good"
    good.mkdir()
    writer.RunStore(good).mark_running(3)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / layout.METRICS_FILE).write_bytes(b"this is not sqlite" * 100)
    assert [r.name for r in reader.list_runs(tmp_path)] == ["good"]
