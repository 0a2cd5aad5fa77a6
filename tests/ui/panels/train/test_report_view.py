"""The confusion matrix labels every class under the matrix, cut to the room each column has at the view's width
(never to a fixed number of characters), and none is hidden as overlapping the left axis."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from tests.ui.helpers import TIMEOUT  # noqa: E402 - after the platform is chosen

NAMES = ["computers", "medicine", "sports", "politics", "science", "religion"]


def _report() -> dict:
    n = len(NAMES)
    matrix = [[10 if r == c else 1 for c in range(n)] for r in range(n)]
    return {"step": 100, "accuracy": 0.8, "f1": 0.8, "confusion_matrix": {"labels": NAMES, "matrix": matrix},
            "per_class": {k: {"f1": 0.8, "support": 15} for k in NAMES}, "misclassified": []}


def _labels(view) -> list[str]:
    axis = view.matrix_plot.getPlotItem().getAxis("bottom")
    return [label for _, label in axis._tickLevels[0]]


def test_every_class_is_labelled_and_wider_views_show_more_of_each_name(qtbot):
    from studio.ui.panels.train.report_view import ReportView

    view = ReportView()
    qtbot.addWidget(view)
    view.resize(420, 400)
    view.show()
    view.show_report(_report())
    qtbot.wait(50)
    narrow = _labels(view)
    assert len(narrow) == len(NAMES) and all(label for label in narrow)
    assert not view.matrix_plot.getPlotItem().getAxis("bottom").style["hideOverlappingLabels"]
    view.resize(1400, 600)
    qtbot.waitUntil(lambda: _labels(view) == NAMES, timeout=TIMEOUT)  # room for every name in full
    assert any(label.endswith("…") for label in narrow)  # cut, and marked as cut
