"""The tasks Studio knows, and the questions asked of them all: which task a sample, a model or a data
set is for, and every column role any task reads (for the command line's flags).

Adding a task is adding a module beside this one and a line to `TASKS`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from studio.core.data.columns import Column
from studio.core.errors import ConfigError, DataError, ModelError
from studio.core.tasks import classify, lm, mlm, summarize, tag
from studio.core.tasks.base import Task

if TYPE_CHECKING:
    from datasets import Dataset

TASKS: dict[str, Task] = {t.name: t for t in (lm.TASK, summarize.TASK, classify.TASK, mlm.TASK, tag.TASK)}


def get(name: str) -> Task:
    if name not in TASKS:
        raise ConfigError(f"Unknown task '{name}'; choose one of {', '.join(TASKS)} "
                          f"({', '.join(t.title.lower() for t in TASKS.values())}).")
    return TASKS[name]


def find(name: str) -> Task | None:
    """The task of that name, or None (a run written by a newer Studio may name one this one lacks)."""
    return TASKS.get(name)


def all_tasks() -> list[Task]:
    return list(TASKS.values())


def column_roles() -> list[Column]:
    """Every role any task reads, each once, in the order the tasks declare them."""
    seen: dict[str, Column] = {}
    for task in TASKS.values():
        for column in task.columns:
            seen.setdefault(column.role, column)
    return list(seen.values())


def for_sample(source: str) -> Task | None:
    """The task a built-in sample is first made for (where --data sample:NAME alone leads)."""
    return next((t for t in TASKS.values() if source in t.samples), None)


def for_model(config: Any, run_task: str | None = None) -> Task:
    """The task a model serves: its run's, or the one its architecture names."""
    if run_task in TASKS:
        return TASKS[run_task]
    from studio.core.modeling.shapes import shape

    names = list(getattr(config, "architectures", None) or [])
    for task in TASKS.values():
        if any(n.endswith(task.architectures) for n in names) and (not task.shapes or shape(config) in task.shapes):
            return task
    if not names:  # a bare config: decide by shape
        for task in TASKS.values():
            if task.shapes and shape(config) in task.shapes:
                return task
    described = names[0] if names else getattr(config, "model_type", "unknown")
    raise ModelError(f"Studio cannot tell what this model ({described}) is for; it uses "
                     f"{', '.join(t.title.lower() for t in TASKS.values())} models.")


def suggest(ds: Dataset) -> Task | None:
    """The task whose every column role the data names (`text,label` is for classification), the task
    with more roles first; None when no task's names all appear."""
    from studio.core.data.columns import map_columns

    controls = {c.role: c.flag for c in column_roles()}
    for task in sorted(TASKS.values(), key=lambda t: -len(t.columns)):
        named = [next((g for g in c.guesses if g in ds.column_names), None) for c in task.columns]
        if None in named or len(set(named)) < len(named):
            continue
        try:
            map_columns(ds, task.columns, dict(zip((c.role for c in task.columns), named)), controls)
        except DataError:
            continue
        return task
    return None
