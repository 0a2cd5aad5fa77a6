"""The tasks Studio knows, and the questions asked of them all: which task a sample, a model or a data
set is for, every column role and every setting any task reads (for the command line's flags), and
whether a model serves a task's command.

The built-in tasks are the modules beside this one. Any installed distribution adds its own through an
entry point in the group `studio.tasks` that names a `Task` instance:

    [project.entry-points."studio.tasks"]
    topic = "my_package.topic:TASK"

as transformers' `PipelineRegistry` lets a package add a pipeline. Such a task is a task like the
built-in ones: the command line, the wizard, the Data panel, the monitor, the Runs list, the Playground
(for an output kind Studio has a view for) and `studio evaluate` all find it here.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

from studio.core.data import samples
from studio.core.data.columns import Column
from studio.core.errors import ConfigError, DataError, ModelError
from studio.core.settings import Setting
from studio.core.tasks import chat, classify, lm, mlm, prefer, qa, summarize, tag, translate
from studio.core.tasks.base import Task

if TYPE_CHECKING:
    from datasets import Dataset

GROUP = "studio.tasks"
_BUILT_IN = (lm.TASK, chat.TASK, prefer.TASK, summarize.TASK, translate.TASK, classify.TASK, mlm.TASK, tag.TASK,
             qa.TASK)
_tasks: dict[str, Task] | None = None
_problems: list[str] = []


def _installed() -> list[Task]:
    """The tasks other packages declare. One that cannot be loaded is left out with a sentence (see
    `problems`): a broken plug-in must not take the built-in tasks down with it."""
    found = []
    for point in entry_points(group=GROUP):
        try:
            task = point.load()
        except Exception as exc:  # noqa: BLE001 - whatever the package's import raised
            _problems.append(f"The task '{point.name}' ({point.value}) cannot be loaded ({type(exc).__name__}: "
                             f"{exc}); fix or uninstall the package that adds it.")
            continue
        if not isinstance(task, Task):
            _problems.append(f"The entry point '{point.name}' ({point.value}) names a {type(task).__name__}, not a "
                             "Studio task; it is left out.")
            continue
        found.append(task)
    return found


def tasks() -> dict[str, Task]:
    """Every task by name: the built-in ones first, then those of installed packages."""
    global _tasks
    if _tasks is None:
        found: dict[str, Task] = {}
        for task in (*_BUILT_IN, *_installed()):
            if task.name in found:
                _problems.append(f"Two tasks are called '{task.name}'; the second, from {type(task).__module__}, is "
                                 "left out.")
                continue
            found[task.name] = task
        _tasks = found
    return _tasks


def problems() -> list[str]:
    """Sentences about installed tasks that were left out."""
    tasks()
    return list(_problems)


def reload() -> None:
    """Look for installed tasks again (after a package was installed while Studio ran, and in tests)."""
    global _tasks
    _tasks = None
    _problems.clear()


def get(name: str) -> Task:
    known = tasks()
    if name not in known:
        raise ConfigError(f"Unknown task '{name}'; choose one of {', '.join(known)} "
                          f"({', '.join(t.title.lower() for t in known.values())}).")
    return known[name]


def find(name: str) -> Task | None:
    """The task of that name, or None (a run written by a newer Studio may name one this one lacks)."""
    return tasks().get(name)


def all_tasks() -> list[Task]:
    return list(tasks().values())


def tasks_accepting(config: Any) -> list[str]:
    """The tasks a model with this config can be trained for (its type has their heads), by name."""
    return [t.name for t in all_tasks() if t.accepts(config)]


def column_roles() -> list[Column]:
    """Every role any task reads, each once, in the order the tasks declare them."""
    seen: dict[str, Column] = {}
    for task in all_tasks():
        for column in task.columns:
            seen.setdefault(column.role, column)
    return list(seen.values())


def task_settings() -> list[tuple[Setting, list[Task]]]:
    """Every task's own setting, each name once, with the tasks that read it."""
    seen: dict[str, tuple[Setting, list[Task]]] = {}
    for task in all_tasks():
        for setting in task.settings:
            seen.setdefault(setting.name, (setting, []))[1].append(task)
    return list(seen.values())


def for_sample(source: str) -> Task | None:
    """The task a built-in sample is first made for (where --data sample:NAME alone leads)."""
    return next((t for t in all_tasks() if any(samples.same_kind(source, s) for s in t.samples)), None)


def for_model(config: Any, run_task: str | None = None, tokenizer: Any = None) -> Task:
    """The task a model serves: its run's, or the one its architecture names; of several, one that claims
    the model by its tokenizer (a chat model's template) first."""
    known = tasks()
    if run_task in known:
        return known[run_task]
    from studio.core.modeling.shapes import shape

    names = list(getattr(config, "architectures", None) or [])
    if names:
        fitting = [t for t in known.values()
                   if any(n.endswith(t.architectures) for n in names) and (not t.shapes or shape(config) in t.shapes)]
    else:  # a bare config: decide by shape
        fitting = [t for t in known.values() if t.shapes and shape(config) in t.shapes]
    if fitting:
        return next((t for t in fitting if tokenizer is not None and t.claims(tokenizer)), fitting[0])
    described = names[0] if names else getattr(config, "model_type", "unknown")
    raise ModelError(f"Studio cannot tell what this model ({described}) is for; it uses "
                     f"{', '.join(t.title.lower() for t in known.values())} models.")


def check_serves(command_task: Task, loaded: Any) -> None:
    """Refuse, in a sentence, a model whose answers are not of the kind `command_task`'s command gives (a
    classifier asked to write text); a model of another task of the same kind is welcome."""
    if loaded.task.output is command_task.output:
        return
    raise ModelError(f"'{loaded.source}' is a {loaded.task.title.lower()} model; it does not "
                     f"{command_task.output.does}. Use 'studio {loaded.task.command.name}' with it, or a model trained "
                     f"with --task {command_task.name}.")


def same_output(tasks_: list[Task]) -> bool:
    """Whether models of these tasks give the same kind of answer, so they can be compared side by side."""
    return len({id(t.output) for t in tasks_}) <= 1


def suggest(ds: Dataset) -> Task | None:
    """The task whose required column roles the data names (`text,label` is for classification; a lone
    `messages` column is a chat, whose prompt and response columns are its other shape), the task that names
    more roles first; None when no task's names all appear."""
    from studio.core.data.columns import map_columns

    controls = {c.role: c.flag for c in column_roles()}
    found: list[tuple[int, Task]] = []
    for task in all_tasks():
        groups = list(dict.fromkeys(c.group for c in task.columns if c.group)) or [""]
        for group in groups:
            roles = [c for c in task.columns if not c.optional and (not c.group or c.group == group)]
            named = [next((g for g in c.guesses if g in ds.column_names), None) for c in roles]
            if not roles or None in named or len(set(named)) < len(named):
                continue
            try:
                map_columns(ds, task.columns, dict(zip((c.role for c in roles), named)), controls)
            except DataError:
                continue
            found.append((len(roles), task))
            break
    return max(found, key=lambda f: f[0])[1] if found else None
