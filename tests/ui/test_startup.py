"""The window comes up without torch or transformers, with runs in the workspace: the wizard's list of runs to
train from comes from the runs' own records (which tasks their models train into), not their models' configs."""

from __future__ import annotations

import json
import os
import subprocess
import sys

CODE = """
import json, sys, time
from PySide6.QtWidgets import QApplication
from studio.ui import app as studio_app

studio_app.Warmup.start = lambda self: None  # the device probe imports torch after the window is up, by design

def exec_and_report(application):
    at_show = "torch" in sys.modules
    window = next(w for w in QApplication.topLevelWidgets() if type(w).__name__ == "MainWindow")
    QApplication.processEvents()  # one turn: finish_setup runs, the run list is read
    model = window.train_panel.wizard.model
    until = time.monotonic() + 600
    while model.listing and time.monotonic() < until:
        QApplication.processEvents()
        time.sleep(0.01)
    QApplication.processEvents()
    offered = [model.run.itemData(i) for i in range(model.run.count())]
    print("REPORT", json.dumps({"torch_at_show": at_show, "torch": "torch" in sys.modules,
                                "transformers": "transformers" in sys.modules, "offered": offered}), flush=True)
    return 0

QApplication.exec = exec_and_report
from studio.launcher import main
main([])
"""


def test_the_window_and_its_run_list_come_up_without_torch(workspace_dir, lm_run, cls_run, tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", STUDIO_WORKSPACE=str(workspace_dir),
               XDG_CONFIG_HOME=str(tmp_path / "config"))
    out = subprocess.run([sys.executable, "-c", CODE], env=env, capture_output=True, text=True, timeout=600,
                         check=False)
    line = next((x for x in out.stdout.splitlines() if x.startswith("REPORT ")), None)
    assert line is not None, out.stderr[-2000:]
    report = json.loads(line.removeprefix("REPORT "))
    assert not report["torch_at_show"] and not report["torch"] and not report["transformers"]
    assert str(lm_run) in report["offered"]  # the default task is language modelling: its runs are there
    assert str(cls_run) not in report["offered"]  # a classifier does not train into a language model
