"""Run settings: a task's recipe under files and flags, and the equivalent command."""

from __future__ import annotations

import argparse

import pytest

from studio.cli import build_parser
from studio.cli.train_command import _config
from studio.core.errors import ConfigError
from studio.core.tasks import registry
from studio.core.training import config as run_config
from studio.core.training.config import RunConfig, command_line

RECIPES = [t for t in registry.all_tasks() if t.recipe]


def _parsed(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["train", *argv])


def test_some_task_changes_the_defaults():
    assert RECIPES, "no task has a recipe: the summarizer needs more steps than the other tasks"


@pytest.mark.parametrize("task", RECIPES, ids=lambda t: t.name)
def test_a_tasks_recipe_sits_under_the_config_file_and_the_flags(task, tmp_path):
    recipe = dict(task.recipe)
    assert RunConfig.for_task(task.name) != RunConfig(task=task.name)
    from_flags = _config(_parsed("--task", task.name))
    assert {k: getattr(from_flags, k) for k in recipe} == recipe
    assert _config(_parsed("--task", task.name, "--max-steps", "7")).max_steps == 7
    sample = _config(_parsed("--data", task.default_data))
    assert sample.task == task.name and sample.max_steps == recipe.get("max_steps", RunConfig().max_steps)
    file = tmp_path / "run.toml"
    file.write_text(f'[run]\ntask = "{task.name}"\nvocab_size = 1000\n', encoding="utf-8")
    from_file = _config(_parsed("--config", str(file)))
    assert from_file.vocab_size == 1000 and {k: getattr(from_file, k) for k in recipe} == recipe
    file.write_text(f'[run]\ntask = "{task.name}"\nmax_steps = 9\n', encoding="utf-8")
    assert _config(_parsed("--config", str(file))).max_steps == 9


@pytest.mark.parametrize("task", RECIPES, ids=lambda t: t.name)
def test_the_equivalent_command_leaves_out_the_recipe(task):
    default = RunConfig.for_task(task.name).resolved()
    assert "--max-steps" not in command_line(default)
    longer = RunConfig.for_task(task.name)
    longer.max_steps += 1
    assert f"--max-steps {longer.max_steps}" in command_line(longer.resolved())


def test_config_rejects_typos_and_wrong_types(tmp_path):
    with pytest.raises(ConfigError, match="unknown setting 'lerning_rate'"):
        run_config.from_dict({"lerning_rate": 1e-3})
    with pytest.raises(ConfigError, match="whole number"):
        run_config.from_dict({"max_steps": 2.5})
    cfg = tmp_path / "c.toml"
    cfg.write_text("[run\nmax_steps = 3")
    with pytest.raises(ConfigError, match="not valid TOML"):
        run_config.load(cfg)
    c = run_config.validate(RunConfig(task="summarize"))
    assert (c.data, c.model) == ("sample:docstrings", "bart-tiny")
    cfg.write_text(run_config.dumps(c))
    assert run_config.load(cfg) == c
