"""The training process's handle on a run's metrics: history, truncation for a resume, and a writer
that died without saying so."""

from __future__ import annotations

import math

from studio.core.runs import reader, writer


def test_store_history_truncate_and_dead_process(tmp_path):
    store = writer.RunStore(tmp_path)
    store.mark_running(10)
    for step in (1, 5, 10):
        store.log(step, {"loss_like": float(step), "nan_one": math.nan})
    store.truncate_after(5)
    store.set_meta(pid=2**22 + 12345)  # no such process: the run died without a word
    info = reader.read(tmp_path)
    assert info.status == "stopped"
    assert [r["step"] for r in info.history] == [1, 5] and info.history[0]["nan_one"] is None
    store.mark_finished("completed")
    assert reader.read(tmp_path).status == "completed"
    store.close()
