"""The monitor's sample answers: newest evaluation first, one prompt followed across the run, and an
answer that did not change reads lighter than one that did."""

from __future__ import annotations

from types import SimpleNamespace

from studio.core.tasks import registry

SAMPLES = [{"step": 100, "prompt": "def add(a, b):", "output": "pass", "reference": "return a + b"},
           {"step": 100, "prompt": "class Point:", "output": "pass", "reference": "def __init__"},
           {"step": 200, "prompt": "def add(a, b):", "output": "return a + b", "reference": "return a + b"},
           {"step": 200, "prompt": "class Point:", "output": "pass", "reference": "def __init__"}]


def _cells(view):
    table = view.table
    return [[table.item(r, c).text() for c in range(table.columnCount())] for r in range(table.rowCount())]


def test_newest_first_and_one_prompt_followed(qtbot):
    from studio.ui.panels.train.samples_view import SamplesView

    view = SamplesView()
    qtbot.addWidget(view)
    view.set_all(SAMPLES)
    assert [row[:3] for row in _cells(view)] == [["200", "def add(a, b):", "return a + b"],
                                                  ["200", "class Point:", "pass"],
                                                  ["100", "def add(a, b):", "pass"], ["100", "class Point:", "pass"]]
    assert view.table.item(0, 2).font().bold() and not view.table.item(1, 2).font().bold()  # changed, unchanged
    assert "the same answer as at step 100" in view.table.item(1, 2).toolTip()
    view.prompt.setCurrentIndex(view.prompt.findData("class Point:"))
    assert [row[0] for row in _cells(view)] == ["200", "100"]
    view.add(300, [{"prompt": "class Point:", "output": "def __init__(self):", "reference": "def __init__"}])
    assert view.prompt.currentData() == "class Point:" and _cells(view)[0][:3] == ["300", "class Point:",
                                                                                  "def __init__(self):"]


def test_the_monitor_shows_a_runs_answers_only_when_it_has_them(qtbot):
    from studio.ui.panels.train.monitor import Monitor

    monitor = Monitor()
    qtbot.addWidget(monitor)
    monitor.show()
    history = [{"step": 100, "time": 1.0, "train_loss": 2.0, "eval_loss": 2.1}]
    info = SimpleNamespace(path="/tmp/run", base=None, history=history, planned_steps=200, global_step=200, last=history[-1],
                           name="run", status="completed", report=None, model_dir=None, checkpoints=[],
                           samples=SAMPLES)
    monitor.show_history(info, registry.get("lm"))
    assert monitor.samples.isVisible() and monitor.samples.table.rowCount() == 4
    monitor.show_history(SimpleNamespace(**{**info.__dict__, "samples": []}), registry.get("classify"))
    assert not monitor.samples.isVisible()
