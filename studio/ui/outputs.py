"""The window's view of each output kind (studio.core.tasks.outputs), registered once by the kind's name:
the Playground column that shows an answer, its hint, whether lines can be answered in a batch, the
report the monitor shows after a run. A kind without a registered view is shown as the lines its kind
writes for a terminal, so a task from another package works in the window before it brings a view."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from studio.core.tasks import outputs


@dataclass(frozen=True)
class OutputView:
    column: Callable[[str], Any] | None  # an answer column, by object name; None: the streamed text column
    hint: str = ""  # the Playground's placeholder; empty: "Type or paste the <input>, then <action>."
    batch: bool = False  # the lines of a text or a file can be answered together, in a table
    mask_button: bool = False  # the Playground offers "Insert Mask" (the model fills in mask tokens)
    report: Callable[[], Any] | None = None  # what the monitor shows of the run's final report


_VIEWS: dict[str, OutputView] = {}
_BUILT_IN: list[bool] = []  # filled once the built-in views are registered


def register(kind: outputs.OutputKind, view: OutputView) -> None:
    _VIEWS[kind.name] = view


def view_of(kind: outputs.OutputKind) -> OutputView:
    _builtins()
    found = _VIEWS.get(kind.name)
    if found is not None:
        return found
    from studio.ui.panels.playground.lines_column import LinesColumn

    return OutputView(LinesColumn, batch=False)


def kinds() -> list[outputs.OutputKind]:
    """Every kind a task here gives, each once: the ones the window has views for, then the plug-ins'."""
    from studio.core.tasks import registry

    _builtins()
    seen: dict[str, outputs.OutputKind] = {}
    for task in registry.all_tasks():
        seen.setdefault(task.output.name, task.output)
    return list(seen.values())


def _builtins() -> None:
    # imported when first asked, so importing this module does not build widgets' modules at start-up
    if _BUILT_IN:
        return
    _BUILT_IN.append(True)
    from studio.ui.panels.playground.answers_column import AnswersColumn
    from studio.ui.panels.playground.labels_column import LabelsColumn
    from studio.ui.panels.playground.masks_column import MasksColumn
    from studio.ui.panels.playground.tags_column import TagsColumn
    from studio.ui.panels.train.report_view import ReportView
    from studio.ui.panels.train.tag_report_view import TagReportView

    labels_hint = ("Type a text: the labels update as you type. For a batch, put one text per line and press "
                   "Classify Each Line.")
    masks_hint = ("Type a text with the mask token where a word is missing (Insert Mask puts it at the cursor): "
                  "the candidates update as you type. Click one to fill it in.")
    for kind, view in ((outputs.TEXT, OutputView(None)),
                       (outputs.LABELS, OutputView(LabelsColumn, labels_hint, batch=True, report=ReportView)),
                       (outputs.MASKS, OutputView(MasksColumn, masks_hint, mask_button=True)),
                       (outputs.TAGS, OutputView(TagsColumn, "Type a text: its entities are coloured as you type.",
                                                 report=TagReportView)),
                       (outputs.ANSWERS, OutputView(AnswersColumn, "Ask a question about the context above: the "
                                                                   "answer is highlighted in it as you type."))):
        _VIEWS.setdefault(kind.name, view)  # a package may have registered its own view for a kind first
