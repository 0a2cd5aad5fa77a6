"""The main window: five panels, menus with shortcuts, a status bar, and layout that persists."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QByteArray
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QMenu, QMessageBox, QProgressBar, QTabWidget

from studio import __version__
from studio.ui import settings
from studio.ui.panels.attention.panel import AttentionPanel
from studio.ui.panels.data.panel import DataPanel
from studio.ui.panels.models.panel import ModelsPanel
from studio.ui.panels.playground.panel import PlaygroundPanel
from studio.ui.panels.train.panel import TrainPanel

PANEL_NAMES = ("dataPanel", "trainPanel", "playgroundPanel", "attentionPanel", "modelsPanel")


class MainWindow(QMainWindow):
    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowTitle("Transformer Studio")
        self.startup_seconds: float | None = None
        self.data_panel = DataPanel()
        self.train_panel = TrainPanel()
        self.playground_panel = PlaygroundPanel()
        self.attention_panel = AttentionPanel()
        self.models_panel = ModelsPanel()
        self.tabs = QTabWidget(objectName="panelTabs", documentMode=True)
        for panel, title in ((self.data_panel, "Data"), (self.train_panel, "Train"),
                             (self.playground_panel, "Playground"), (self.attention_panel, "Attention"),
                             (self.models_panel, "Models")):
            self.tabs.addTab(panel, title)
        self.setCentralWidget(self.tabs)
        self.data_panel.changed.connect(self._data_changed)
        self.data_panel.file_opened.connect(lambda _: self._fill_recent())
        self.train_panel.run_changed.connect(self.set_run)
        self.train_panel.run_ended.connect(self._run_ended)
        self.train_panel.open_model.connect(self.open_model)
        self.train_panel.try_text.connect(self.try_text)
        self.playground_panel.conversation_inspected.connect(self.inspect_conversation)
        self.models_panel.train_with.connect(self.train_with)
        offered: list[tuple[str, str]] = []
        for picker in self._pickers():
            picker.offered = offered
            picker.loaded.connect(lambda model, p=picker: self._offer(p, model))
        self.train_panel.progress.connect(lambda value, most: (self.run_progress.setMaximum(max(1, most)),
                                                               self.run_progress.setValue(value)))
        self._status_bar()
        self._menus()
        self._restore()

    def _status_bar(self) -> None:
        bar = self.statusBar()
        self.device_label = QLabel("Detecting device…", objectName="deviceLabel")
        self.run_label = QLabel("No run", objectName="runLabel")
        self.run_progress = QProgressBar(objectName="statusProgress", maximumWidth=160, visible=False)
        bar.addWidget(self.run_label, 1)
        bar.addPermanentWidget(self.run_progress)
        bar.addPermanentWidget(self.device_label)

    def _menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self._action(file_menu, "Open &File…", QKeySequence.StandardKey.Open, self.data_panel.choose_file, "actionOpenFile")
        self._action(file_menu, "Open F&older…", "Ctrl+Shift+O", self.data_panel.choose_folder, "actionOpenFolder")
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.setObjectName("recentMenu")
        self._fill_recent()
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", QKeySequence.StandardKey.Quit, self.close, "actionQuit")
        view = self.menuBar().addMenu("&View")
        for i, title in enumerate(("&Data", "&Train", "&Playground", "&Attention", "&Models")):
            self._action(view, title, f"Ctrl+{i + 1}", lambda i=i: self.tabs.setCurrentIndex(i), f"actionPanel{i + 1}")
        train = self.menuBar().addMenu("&Train")
        self._action(train, "&Start", "Ctrl+Shift+Return", self.train_panel.request_start, "actionStart")
        self._action(train, "&Pause / Resume", "Ctrl+P", self.train_panel.toggle_pause, "actionPause")
        self._action(train, "Save &Now", "Ctrl+S", self.train_panel.save_now, "actionSaveNow")
        self._action(train, "S&top", "Ctrl+.", self.train_panel.stop, "actionStop")
        help_menu = self.menuBar().addMenu("&Help")
        self._action(help_menu, "&About Transformer Studio", None, self._about, "actionAbout")

    def _action(self, menu: QMenu, title: str, shortcut: object, slot: object, name: str) -> QAction:
        action = QAction(title, self, objectName=name)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(lambda *_: slot())
        menu.addAction(action)
        return action

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        recent = settings.recent_files()
        for path in recent:
            action = self.recent_menu.addAction(path)
            action.triggered.connect(lambda *_, p=path: (self.tabs.setCurrentIndex(0), self.data_panel.open_source(p)))
        self.recent_menu.setEnabled(bool(recent))

    def _about(self) -> None:
        QMessageBox.about(self, "About Transformer Studio", f"Transformer Studio {__version__}\n\nTrain, run and "
                          "look inside transformer language models on your own machine.")

    def _data_changed(self) -> None:
        self.train_panel.use_data(self.data_panel.selection())

    # ---- models across panels -----------------------------------------------------------------------
    def _pickers(self) -> list[Any]:
        return [*self.playground_panel.pickers, *self.attention_panel.pickers]

    def _run_ended(self, run_dir: str) -> None:
        """A run finished, stopped or failed: every list of models and runs shows what it left."""
        for picker in self._pickers():
            picker.refresh()

    def _offer(self, source_picker: Any, model: Any) -> None:
        source_picker.offer(model.source, source_picker.label)
        for picker in self._pickers():
            if picker is not source_picker and not picker.choosing:
                picker.refresh()

    def open_model(self, run_dir: str, where: str) -> None:
        """Load a run's model in the Playground or the Attention panel, and show that panel."""
        panel = self.playground_panel if where == "playground" else self.attention_panel
        self.tabs.setCurrentWidget(panel)
        panel.open_model(run_dir)

    def train_with(self, repo_id: str, task: str | None = None) -> None:
        self.tabs.setCurrentWidget(self.train_panel)
        self.train_panel.use_hub_model(repo_id, task)

    def try_text(self, run_dir: str, text: str) -> None:
        self.tabs.setCurrentWidget(self.playground_panel)
        self.playground_panel.try_text(run_dir, text)

    def inspect_conversation(self, source: str, transcript: str) -> None:
        self.tabs.setCurrentWidget(self.attention_panel)
        self.attention_panel.open_conversation(source, transcript)

    # ---- status -------------------------------------------------------------------------------------
    def set_device(self, text: str, gpus: int = 0) -> None:
        self.device_label.setText(text)
        self.train_panel.set_gpus(gpus)

    def set_run(self, text: str) -> None:
        self.run_label.setText(text)
        self.run_progress.setVisible(self.train_panel.training)

    def finish_setup(self) -> None:
        """Work that waits until the window is on screen: plotting imports, garbage collection on this
        thread, and the run list."""
        import pyqtgraph  # noqa: F401 - warm the import the monitor and histogram need

        collect_on_this_thread()
        self.train_panel.refresh_runs()

    # ---- persistence and closing --------------------------------------------------------------------
    def _restore(self) -> None:
        geometry = settings.value("window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        else:
            self.resize(1200, 780)
        self.tabs.setCurrentIndex(settings.value("window/panel", 0, int))
        task = settings.value("data/task")
        if task:
            self.data_panel.set_task(task)

    def _save(self) -> None:
        settings.set_value("window/geometry", self.saveGeometry())
        settings.set_value("window/panel", self.tabs.currentIndex())
        settings.set_value("data/task", self.data_panel.current_task())

    def confirm_close_while_training(self) -> bool:
        answer = QMessageBox.question(self, "A run is training", "Stop the run and close? A checkpoint is saved "
                                      "first, so you can resume it later.",
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        if self.train_panel.training:
            if not self.confirm_close_while_training():
                event.ignore()
                return
            self.statusBar().showMessage("Saving a checkpoint before closing…")
            self.train_panel.stop_and_wait()
        self._save()
        event.accept()


_COLLECTOR: Any = None


def collect_on_this_thread() -> None:
    """Python's cycle collector runs in whichever thread happens to allocate; a Qt object freed there,
    off the thread it lives in, can crash the process (two CI runs died in native code inside model loads
    on background threads, with nothing else running). pyqtgraph's GarbageCollector turns automatic
    collection off and collects on a timer of the calling (GUI) thread instead."""
    global _COLLECTOR
    if _COLLECTOR is None:
        from pyqtgraph.util.garbage_collector import GarbageCollector

        _COLLECTOR = GarbageCollector(interval=1.0)
