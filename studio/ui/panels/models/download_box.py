"""The download in progress (bytes, speed, time left, per file and in all) with Pause and Cancel, and the downloads
left part-way by a cancel, a crash or a restart, each with a button that continues it."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
)

from studio.ui.jobs import Job

_STEPS = 1000


class DownloadBox(QGroupBox):
    finished = Signal(str)  # the repository id, once all its files are here

    def __init__(self) -> None:
        super().__init__("Downloads", objectName="downloadBox")
        self.job: Job | None = None
        self.repo_id = ""
        self.label = QLabel("Nothing is downloading.", objectName="downloadLabel", wordWrap=True)
        self.bar = QProgressBar(objectName="downloadProgress", maximum=_STEPS, visible=False)
        self.pause_button = QPushButton("Pause", objectName="downloadPause", clicked=self.toggle_pause, enabled=False)
        self.cancel_button = QPushButton("Cancel", objectName="downloadCancel", clicked=self.cancel, enabled=False,
                                         toolTip="Stop; what was fetched is kept, and downloading again goes on "
                                                 "from there")
        self.pending = QListWidget(objectName="pendingDownloads", maximumHeight=80, visible=False,
                                   toolTip="Downloads left part-way; double-click one to go on")
        self.pending.itemDoubleClicked.connect(lambda item: self.start(*item.data(256)))
        buttons = QHBoxLayout()
        buttons.addWidget(self.bar, 1)
        buttons.addWidget(self.pause_button)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.label)
        layout.addLayout(buttons)
        layout.addWidget(self.pending)

    @property
    def running(self) -> bool:
        return self.job is not None and self.job.running

    def show_pending(self, pending: list[dict[str, Any]]) -> None:
        self.pending.clear()
        for entry in pending:
            if entry["id"] == self.repo_id and self.running:
                continue
            files = f" ({', '.join(entry['include'])})" if entry.get("include") else ""
            item = QListWidgetItem(f"Continue {entry['id']}{files}")
            item.setData(256, (entry["id"], entry.get("revision"), entry.get("include") or None))
            self.pending.addItem(item)
        self.pending.setVisible(self.pending.count() > 0)

    def start(self, repo_id: str, revision: str | None = None, include: list[str] | None = None) -> bool:
        """Download `repo_id` (`include`'s files, or its default ones) in the background; False while another
        download runs (one at a time: they share the network)."""
        if self.running:
            self.label.setText(f"{self.repo_id} is downloading; wait for it, or cancel it first.")
            return False
        self.repo_id = repo_id

        def work(progress: Any, control: Any) -> str:
            from studio.core.hub import download, local

            progress(0.0, f"Asking the Hub for {repo_id}'s files…")
            planned = download.plan(repo_id, revision, include)
            local.remember(repo_id, revision, include)
            folder = download.download(planned, lambda p: progress(p.done / max(1, p.total), download.as_text(p)),
                                       control)
            local.forget(repo_id)
            return str(folder)

        self.job = Job(work, self)
        self.job.progress.connect(self._progress)
        self.job.done.connect(self._done)
        self.job.failed.connect(self._failed)
        self.job.cancelled.connect(self._cancelled)
        self.bar.setValue(0)
        self.bar.setVisible(True)
        self.pause_button.setText("Pause")
        for button in (self.pause_button, self.cancel_button):
            button.setEnabled(True)
        self.label.setText(f"Starting {repo_id}…")
        self.job.start()
        return True

    def toggle_pause(self) -> None:
        if not self.running:
            return
        control = self.job.control
        if control.paused:
            control.resume()
            self.pause_button.setText("Pause")
        else:
            control.pause()
            self.pause_button.setText("Resume")
            self.label.setText(f"{self.repo_id} is paused; Resume goes on from where it stopped.")

    def cancel(self) -> None:
        if self.running:
            self.job.cancel()

    def _progress(self, fraction: float, message: str) -> None:
        self.bar.setValue(round(fraction * _STEPS))
        if not (self.job and self.job.control.paused):
            self.label.setText(message)

    def _ended(self, text: str) -> None:
        self.label.setText(text)
        for button in (self.pause_button, self.cancel_button):
            button.setEnabled(False)
        self.pause_button.setText("Pause")

    def _done(self, folder: str) -> None:
        self.bar.setValue(_STEPS)
        self._ended(f"{self.repo_id} is here: {folder}")
        self.finished.emit(self.repo_id)

    def _failed(self, sentence: str) -> None:
        self.bar.setVisible(False)
        self._ended(sentence)
        self.finished.emit("")

    def _cancelled(self) -> None:
        self.bar.setVisible(False)
        self._ended(f"The download of {self.repo_id} was cancelled; what was fetched is kept, and downloading it "
                    "again goes on from there.")
        self.finished.emit("")
