"""A model's page: its facts, the memory check for the chosen task on this machine, the variant to download,
its card rendered and its files with their sizes. Everything is read in the background."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from studio.core.system import sizes
from studio.core.tasks import registry
from studio.ui.jobs import Latest
from studio.ui.widgets.messages import mark_warning

_NO_CONFIG = "The memory check needs the model's config.json, which neither it nor its base model has."
_NO_CONFIG_GATED = ("This model is gated: its card and config.json are read with a token that has access, so give "
                    "Studio your token (below) after accepting its terms on its page, then open it again.")


class PageView(QWidget):
    download_requested = Signal(str, object)  # repository id, the globs of the chosen variant (None: default)
    train_requested = Signal(str)  # repository id

    def __init__(self) -> None:
        super().__init__()
        self.page: Any = None
        self.task: str | None = None
        self._reading = Latest(self, cancel_previous=True)
        self._checking = Latest(self, cancel_previous=True)
        self.title = QLabel("Choose a model from the search or from this machine.", objectName="pageTitle",
                            wordWrap=True, textInteractionFlags=Qt.TextInteractionFlag.TextBrowserInteraction,
                            openExternalLinks=True)
        self.title.setStyleSheet("font-weight: 600;")
        self.facts = QLabel(objectName="pageFacts", wordWrap=True)
        self.facts.setProperty("muted", True)
        self.memory = QLabel(objectName="pageMemory", wordWrap=True,
                             toolTip="From the model's config.json alone, before anything downloads: an estimate")
        self.variant = QComboBox(objectName="pageVariant", toolTip="The weights to download: safetensors, or one "
                                                                   "GGUF quantization")
        self.download = QPushButton("Download", objectName="pageDownload", enabled=False,
                                    clicked=self._download, toolTip="Into the Hugging Face cache, shared with other "
                                                                    "tools")
        self._local = ""  # the path of a model of an added folder shown, when it is one
        self.train = QPushButton("Train with it…", objectName="pageTrain", enabled=False,
                                 clicked=lambda: self.train_requested.emit(self.page.id if self.page else self._local),
                                 toolTip="Open the Train wizard with this model chosen")
        row = QHBoxLayout()
        row.addWidget(self.variant, 1)
        row.addWidget(self.download)
        row.addWidget(self.train)
        self.card = QTextBrowser(objectName="pageCard", openExternalLinks=True)
        self.files = QTableWidget(0, 2, objectName="pageFiles")
        self.files.setHorizontalHeaderLabels(["File", "Size"])
        self.files.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.files.verticalHeader().setVisible(False)
        self.files.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.tabs = QTabWidget(objectName="pageTabs")
        self.tabs.addTab(self.card, "Card")
        self.tabs.addTab(self.files, "Files")
        layout = QVBoxLayout(self)
        for widget in (self.title, self.facts, self.memory):
            layout.addWidget(widget)
        layout.addLayout(row)
        layout.addWidget(self.tabs, 1)

    def open(self, repo_id: str, task: str | None) -> None:
        """Read `repo_id`'s page from the Hub and check its memory for `task` (None: what it is for)."""
        self.task = task
        self.page = None
        self._local = ""
        self.title.setText(f"Reading {repo_id}…")
        for widget in (self.facts, self.memory):
            widget.setText("")
        self.download.setEnabled(False)
        self.train.setEnabled(False)

        def work(progress: Any, control: Any) -> Any:
            from studio.core.hub import page

            return page.read(repo_id)

        self._reading.start(work, done=self._show, failed=self._failed)

    def open_local(self, path: str, task: str | None) -> None:
        """A model in a folder the person added: its files, the memory it needs (from its config.json), and
        Train with it; nothing to download."""
        from pathlib import Path

        self.task = task
        self.page = None
        self._reading.cancel()
        place = Path(path)
        files = [place] if place.is_file() else sorted(p for p in place.rglob("*") if p.is_file())
        self.title.setText(f"{place.name} · in your folder {place.parent}")
        self.facts.setText(f"{len(files)} file{'s' if len(files) != 1 else ''}, "
                           f"{sizes.text(sum(f.stat().st_size for f in files))}")
        self.card.setMarkdown((place / "README.md").read_text(encoding="utf-8", errors="replace")
                              if (place / "README.md").is_file() else "*This model has no card.*")
        self.files.setRowCount(len(files))
        for row, f in enumerate(files):
            self.files.setItem(row, 0, QTableWidgetItem(str(f.relative_to(place)) if f != place else f.name))
            size = QTableWidgetItem(sizes.text(f.stat().st_size))
            size.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.files.setItem(row, 1, size)
        self.variant.clear()
        self.variant.addItem("On this machine already", None)
        self.download.setEnabled(False)
        self.train.setEnabled(True)
        self._local = path
        config = place / "config.json"
        if not config.is_file():
            self.memory.setText("The memory it needs shows in the Train wizard, once the GGUF file is imported.")
            return
        self.memory.setText("Checking the memory it needs here…")

        def work(progress: Any, control: Any) -> Any:
            import json

            from studio.core.training import fit

            return fit.of_config_json(json.loads(config.read_text(encoding="utf-8")), path, task)

        self._checking.start(work, done=self._checked, failed=self.memory.setText)

    def set_task(self, task: str | None) -> None:
        self.task = task
        if self.page is not None:
            self._check()
        elif self._local:
            self.open_local(self._local, task)

    def _failed(self, sentence: str) -> None:
        self.title.setText(sentence)

    def _show(self, page: Any) -> None:
        from studio.core.hub import errors

        self.page = page
        link = errors.page(page.id)
        gated = " · gated: accept its terms on its page, then give Studio your token" if page.gated else ""
        self.title.setText(f'<a href="{link}">{page.id}</a>')
        self.facts.setText(f"{page.pipeline_tag or 'no task named'} · licence {page.license or 'not given'} · "
                           f"{page.downloads:,} downloads · {page.likes:,} likes · updated {page.updated[:10]} · "
                           f"{len(page.files)} files, {sizes.text(page.size)}{gated}")
        self.card.setMarkdown(page.card or "*This model has no card.*")
        self.files.setRowCount(len(page.files))
        for row, f in enumerate(page.files):
            self.files.setItem(row, 0, QTableWidgetItem(f.name))
            size = QTableWidgetItem(sizes.text(f.size))
            size.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.files.setItem(row, 1, size)
        self.variant.clear()
        for v in page.variants:
            self.variant.addItem(f"{v.title} — {sizes.text(v.size)}", list(v.include))
        if not page.variants:
            self.variant.addItem("All files", None)
        self.download.setEnabled(True)
        self.train.setEnabled(page.config is not None)
        self._check()

    def _check(self) -> None:
        page, task = self.page, self.task
        if page.config is None:
            self.memory.setText(_NO_CONFIG_GATED if page.gated else _NO_CONFIG)
            return
        self.memory.setText("Checking the memory it needs here…")

        def work(progress: Any, control: Any) -> Any:
            from studio.core.training import fit

            return fit.of_config_json(page.config, page.config_from, task)

        self._checking.start(work, done=self._checked, failed=self.memory.setText)

    def _checked(self, result: Any) -> None:
        found, task = result
        source = "" if self.page is None or self.page.config_from == self.page.id else \
            f" (its base model {self.page.config_from}'s config)"
        self.memory.setText(f"For {registry.get(task).title.lower()}{source}: {found.summary()}")
        mark_warning(self.memory, not found.trains)

    def _download(self) -> None:
        if self.page is not None:
            self.download_requested.emit(self.page.id, self.variant.currentData())
