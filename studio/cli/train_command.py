"""`studio train`: start or resume a run, with a progress bar; Ctrl-C saves a checkpoint and exits 130."""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
import time
from pathlib import Path
from typing import Any

from studio.cli.common import column_flags, setting_flag
from studio.core.control import Control
from studio.core.errors import ConfigError
from studio.core.runs.layout import read_config
from studio.core.runs.summary import one_line
from studio.core.system import workspace
from studio.core.tasks import registry
from studio.core.training import config as run_config


def register(commands: Any) -> None:
    p = commands.add_parser("train", help="train or fine-tune a model (a new run, or --resume one)",
                            description="Train a model. With no options: a tiny GPT on sample:python-code.",
                            epilog=_tasks_epilog(), formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", metavar="FILE.toml", help="settings file; flags given here override it")
    for setting in run_config.COMMON:
        if setting.flag_shown:
            setting_flag(p, setting)
    column_flags(p)
    users = {s.name: [t.name for t in tasks] for s, tasks in registry.task_settings()}
    added: set[str] = set()
    for task in registry.all_tasks():
        new = [s for s in task.settings if s.name not in added]
        if new:
            group = p.add_argument_group(f"{task.title.lower()} (--task {task.name})")
            for setting in new:
                setting_flag(group, setting, prefix=f"{', '.join(users[setting.name])}: ")
                added.add(setting.name)
    p.add_argument("--out", metavar="RUN_DIR", help="the run folder (default: a new folder in the workspace)")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue this run from its latest checkpoint")
    p.set_defaults(func=run)


def _tasks_epilog() -> str:
    lines = ["tasks (--task):"] + [f"  {t.name}: {t.title.lower()} (default data {t.default_data}, model "
                                   f"{t.default_preset}{_recipe_words(t)})" for t in registry.all_tasks()]
    return "\n".join(lines + ["Default: lm, or the task of the sample given as --data. The defaults above are "
                               "the task's own where it names them."])


def _recipe_words(task: Any) -> str:
    """The defaults a task's default run changes, as the flags say them: ", --max-steps 2000"."""
    return "".join(f", --{name.replace('_', '-')} {value}" for name, value in task.recipe)


def _given(args: argparse.Namespace) -> dict[str, Any]:
    names = [s.name for s in run_config.COMMON if s.flag_shown] + [c.field for c in registry.column_roles()] + \
        [s.name for s, _ in registry.task_settings()]
    return {name: getattr(args, name) for name in names if getattr(args, name) is not None}


def _config(args: argparse.Namespace) -> run_config.RunConfig:
    path = Path(args.config).expanduser() if args.config else None
    given = _given(args)
    if given.get("minutes") and "max_steps" in given:
        raise ConfigError("Give --minutes or --max-steps, not both: a budget in minutes sets the steps itself.")
    made_for = registry.for_sample(given.get("data", ""))
    if "task" not in given and path is None and made_for is not None:
        given["task"] = made_for.name  # --data sample:docstrings implies its task
    # The task's recipe sits under the file and the flags, so the task must be known first.
    values = run_config.read_values(path) if path else {}
    base = run_config.RunConfig.for_task(given.get("task") or values.get("task") or run_config.RunConfig().task)
    if path is not None:
        base = run_config.from_dict(values, base, origin=f"'{path.name}'")
    config = run_config.from_dict(given, base, origin="the command line")
    _refuse_other_tasks_flags(given, registry.get(config.task))
    return config


def _refuse_other_tasks_flags(given: dict[str, Any], task: Any) -> None:
    """A flag of another task's column or setting would be ignored, training something the person did not ask
    for; a config file may hold them (one file for several tasks), a command line names what it means."""
    own = {c.field for c in task.columns} | {s.name for s in task.settings}
    for column in registry.column_roles():
        if column.field in given and column.field not in own:
            reads = ", ".join(c.flag for c in task.columns)
            raise ConfigError(f"{column.flag} does not apply: a {task.title.lower()} run reads {reads}.")
    for setting, users in registry.task_settings():
        if setting.name in given and setting.name not in own:
            tasks = " or ".join(f"--task {t.name}" for t in users)
            raise ConfigError(f"{setting.flag} does not apply to {task.title.lower()}; it is a setting of {tasks}.")


def run(args: argparse.Namespace) -> int:
    from studio.core.training import engine

    root = workspace.workspace(args.workspace)
    control = Control()
    if args.resume:
        if args.config or args.out:
            raise ConfigError("--resume continues a run with its own config; drop --config and --out.")
        settings = read_config(Path(args.resume).expanduser())
        task = registry.find(settings.get("task", ""))
    else:
        config = _config(args)
        task = registry.find(config.task)
        settings = config.task_config().values
    progress = _Progress(task.headline_of(settings) if task else ())
    previous = _install_sigint(control, progress)
    try:
        if args.resume:
            result = engine.resume(Path(args.resume), _given(args), root=root, listeners=[progress],
                                   control=control)
        else:
            result = engine.train(config, root=root, out=Path(args.out).expanduser() if args.out else None,
                                  listeners=[progress], control=control)
    finally:
        progress.close()
        signal.signal(signal.SIGINT, previous)
    print(result.message, file=sys.stderr)
    if result.status == "stopped":
        print(f"Continue with: studio train --resume {shlex.quote(result.run_dir)}", file=sys.stderr)
    print(result.run_dir)
    return 130 if result.status == "stopped" else 0


def _install_sigint(control: Control, progress: _Progress) -> Any:
    def handler(signum: int, frame: Any) -> None:
        if control.stopped:
            raise KeyboardInterrupt  # a second Ctrl-C: leave now; the last complete checkpoint stays valid
        control.stop()
        progress.note("Stopping: saving a checkpoint after this step (Ctrl-C again to quit at once)...")

    return signal.signal(signal.SIGINT, handler)


class _Progress:
    """Stage lines, then one tqdm bar with loss, eval loss and tokens/s."""

    def __init__(self, headline: tuple[Any, ...]) -> None:
        self.headline = headline  # the task's own metrics, shown beside the loss
        self.bar: Any = None
        self._last_stage = (None, 0.0)
        self._postfix: dict[str, str] = {}

    def __call__(self, event: Any) -> None:
        from studio.core.training.events import Checkpoint, Metrics, RunStarted, Samples, Stage, Status, Step

        if isinstance(event, Stage):
            self._stage(event)
        elif isinstance(event, RunStarted):
            self.note(event.path)
        elif isinstance(event, Metrics):
            self._metrics(event)
        elif isinstance(event, Step):
            self._bar(event).n = event.step
            self.bar.refresh()
        elif isinstance(event, Checkpoint):
            self.note(f"Checkpoint saved at step {event.step}.")
        elif isinstance(event, Samples):
            self.note(f"Step {event.step:,}, sample answers:" + "".join(
                f"\n  {one_line(a['prompt'], 40)!r} -> {one_line(a['output'], 60)!r}" for a in event.answers))
        elif isinstance(event, Status) and event.status in ("paused", "failed"):
            self.note(event.message)

    def _stage(self, event: Any) -> None:
        now = time.monotonic()
        name, at = self._last_stage
        if event.fraction is not None and name == event.message and now - at < 1.0 and event.fraction < 1.0:
            return  # one line a second per stage is plenty on a terminal
        self._last_stage = (event.message, now)
        suffix = f" {event.fraction:.0%}" if event.fraction is not None else ""
        self.note(event.message + suffix)

    def _bar(self, event: Any) -> Any:
        from tqdm import tqdm

        if self.bar is None:
            self.bar = tqdm(total=event.planned_steps, initial=event.step, unit="step", dynamic_ncols=True,
                            mininterval=0.5, file=sys.stderr)
        return self.bar

    def _metrics(self, event: Any) -> None:
        self._bar(event)
        v = event.values
        if "train_loss" in v:
            self._postfix["loss"] = f"{v['train_loss']:.3f}"
        if "tokens_per_second" in v:
            self._postfix["tok/s"] = f"{v['tokens_per_second']:,.0f}"
        if "eval_loss" in v:
            self._postfix["val"] = f"{v['eval_loss']:.3f}"
        for metric in self.headline:
            if v.get(metric.name) is not None:
                self._postfix[metric.short or metric.title] = f"{v[metric.name]:.3f}"
        self.bar.n = event.step
        self.bar.set_postfix(self._postfix, refresh=False)
        self.bar.refresh()

    def note(self, message: str) -> None:
        if self.bar is not None:
            self.bar.write(message, file=sys.stderr)
        else:
            print(message, file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
