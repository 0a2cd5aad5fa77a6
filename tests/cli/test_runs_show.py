"""`studio runs show` tells a run's title, notes, training time and best validation loss."""

from __future__ import annotations

from studio.cli import main
from studio.core.runs import labels, layout, writer
from studio.core.system.files import atomic_write_text


def test_show_tells_title_notes_time_and_best(tmp_path, capsys):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    atomic_write_text(run_dir / layout.CONFIG_FILE, "[run]\ntask = 'lm'\n")
    store = writer.RunStore(run_dir)
    store.mark_running(30)
    for step, loss in ((10, 2.5), (20, 2.1), (30, 2.3)):
        store.log(step, {"eval_loss": loss})
    store.mark_finished("completed")
    store.close()
    labels.set_label(run_dir, title="baseline", notes="first try\nlr 1e-3")
    assert main(["runs", "show", str(run_dir)]) == 0
    out = capsys.readouterr().out
    assert "title: baseline" in out and "notes: first try\n       lr 1e-3" in out
    assert "trained for: " in out and "best validation loss: 2.1 at step 20" in out
