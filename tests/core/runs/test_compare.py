"""Two runs' differing settings, and a run's history as CSV."""

from __future__ import annotations

import csv
import io

from studio.core.runs import compare, layout


def test_only_the_settings_that_differ(tmp_path):
    for name, lr in (("a", "0.001"), ("b", "0.003")):
        (tmp_path / name).mkdir()
        (tmp_path / name / layout.CONFIG_FILE).write_text(f'[run]\nlr = {lr}\nseed = 42\n', encoding="utf-8")
    (tmp_path / "b" / layout.CONFIG_FILE).write_text('[run]\nlr = 0.003\nseed = 42\nlora = true\n', encoding="utf-8")
    assert compare.config_diff(tmp_path / "a", tmp_path / "b") == [("lora", None, True), ("lr", 0.001, 0.003)]


def test_history_as_csv_with_empty_cells_for_steps_without_a_metric():
    text = compare.history_csv([{"step": 1, "time": 10.0, "loss": 2.5},
                                {"step": 2, "time": 11.0, "loss": 2.0, "eval_loss": 2.2}])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [["step", "time", "loss", "eval_loss"], ["1", "10.0", "2.5", ""], ["2", "11.0", "2.0", "2.2"]]
