"""The models a person can pick: newest run first, each run's final model, then its checkpoints newest
first; a run without either offers nothing."""

from __future__ import annotations

from studio.core.runs import catalog, layout, writer


def _run(root, name: str, started: float, steps: tuple[int, ...], final: bool):
    run = root / name
    run.mkdir(parents=True)
    (run / layout.CONFIG_FILE).write_text('[run]\ntask = "lm"\nmodel = "gpt-tiny"\n', encoding="utf-8")
    store = writer.RunStore(run)
    store.set_meta(started=started, status="completed")
    store.close()
    for step in steps:
        (run / layout.CHECKPOINTS / f"checkpoint-{step}").mkdir(parents=True)
        (run / layout.CHECKPOINTS / f"checkpoint-{step}" / "trainer_state.json").write_text("{}", encoding="utf-8")
    if final:
        (run / layout.MODEL).mkdir()
        (run / layout.MODEL / "config.json").write_text("{}", encoding="utf-8")


def test_newest_run_first_final_model_then_checkpoints(tmp_path):
    _run(tmp_path, "old", 1.0, (10,), final=True)
    _run(tmp_path, "new", 2.0, (10, 20), final=False)
    _run(tmp_path, "empty", 3.0, (), final=False)
    found = [(c.run, c.step) for c in catalog.model_choices(tmp_path)]
    assert found == [("new", 20), ("new", 10), ("old", None), ("old", 10)]
    final = next(c for c in catalog.model_choices(tmp_path) if c.step is None)
    assert final.path == str(tmp_path / "old" / layout.MODEL) and final.task == "lm" and not final.adapter
