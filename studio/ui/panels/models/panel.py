"""The Models panel: search the Hub for what a task can train or run, read a model's page with the memory it
needs here, download it with progress into the shared cache, and manage the models already on this machine
(the cache, with each model's size and last use, and folders the person added). The token for gated and private
models is typed once here and kept where the Hub client keeps it.

Nothing is read until the panel is first shown: the window opens without importing the Hub client.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.core.system import sizes
from studio.core.tasks import registry
from studio.ui.jobs import Latest
from studio.ui.panels.models.download_box import DownloadBox
from studio.ui.panels.models.page_view import PageView

_RESULTS = ("Model", "Downloads", "Likes", "Updated", "Parameters", "Licence", "Gated")
_LOCAL = ("Model", "Size", "Last used", "Where")


def _table(name: str, headers: tuple[str, ...]) -> QTableWidget:
    table = QTableWidget(0, len(headers), objectName=name)
    table.setHorizontalHeaderLabels(list(headers))
    header = table.horizontalHeader()
    for column in range(1, len(headers)):
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    table.verticalHeader().setVisible(False)
    table.setWordWrap(False)
    table.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # an id's owner and its name's end both matter
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
    table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
    return table


def _cell(text: str, data: Any = None, right: bool = False) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setToolTip(text)
    if data is not None:
        item.setData(Qt.ItemDataRole.UserRole, data)
    if right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


class ModelsPanel(QWidget):
    train_with = Signal(str, object)  # a hub id to open in the Train wizard, and the task chosen here (or None)

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("modelsPanel")
        self._searching = Latest(self, cancel_previous=True)
        self._listing = Latest(self)
        self._token_job = Latest(self)
        self._shown = False
        self.query = QLineEdit(objectName="modelsQuery", placeholderText="Search the Hub: smollm, bert, qwen…",
                               clearButtonEnabled=True)
        self.query.returnPressed.connect(self.search)
        self.task = QComboBox(objectName="modelsTask", toolTip="Only models this task can start from")
        self.task.addItem("Any task", None)
        for t in registry.all_tasks():
            self.task.addItem(t.title, t.name)
        self.task.currentIndexChanged.connect(self._task_changed)
        search_button = QPushButton("Search", objectName="modelsSearch", clicked=self.search)
        self.status = QLabel(objectName="modelsStatus", wordWrap=True)
        self.status.setProperty("muted", True)
        self.results = _table("modelsResults", _RESULTS)
        self.results.itemSelectionChanged.connect(lambda: self._open_selected(self.results))
        self.local = _table("modelsLocal", _LOCAL)
        self.local.itemSelectionChanged.connect(lambda: self._open_selected(self.local))
        self.total = QLabel(objectName="modelsTotal")
        self.total.setProperty("muted", True)
        remove = QPushButton("Remove…", objectName="modelsRemove", clicked=self.remove_selected,
                             toolTip="Delete the chosen model from the cache (after asking)")
        add_folder = QPushButton("Add folder…", objectName="modelsAddFolder", clicked=self.choose_folder,
                                 toolTip="List the models in a folder of your own")
        refresh = QPushButton("Refresh", objectName="modelsRefresh", clicked=self.refresh_local)
        self.token_status = QLabel(objectName="tokenStatus")
        self.token = QLineEdit(objectName="tokenEdit", echoMode=QLineEdit.EchoMode.Password,
                               placeholderText="hf_… (for gated and private models)")
        self.token.returnPressed.connect(self.save_token)
        save_token = QPushButton("Save token", objectName="tokenSave", clicked=self.save_token,
                                 toolTip="Checked with the Hub, then kept where the Hub client keeps it")
        self.page = PageView()
        self.downloads = DownloadBox()
        self.page.download_requested.connect(lambda repo, include: self.downloads.start(repo, None, include))
        self.page.train_requested.connect(lambda repo: self.train_with.emit(repo, self.current_task()))
        self.downloads.finished.connect(lambda _: self.refresh_local())

        search_row = QHBoxLayout()
        search_row.addWidget(self.query, 1)
        search_row.addWidget(self.task)
        search_row.addWidget(search_button)
        local_box = QGroupBox("On this machine", objectName="localBox")
        local_buttons = QHBoxLayout()
        local_buttons.addWidget(self.total, 1)
        for button in (refresh, add_folder, remove):
            local_buttons.addWidget(button)
        local_layout = QVBoxLayout(local_box)
        local_layout.addWidget(self.local)
        local_layout.addLayout(local_buttons)
        token_row = QHBoxLayout()
        token_row.addWidget(self.token_status)
        token_row.addWidget(self.token, 1)
        token_row.addWidget(save_token)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addLayout(search_row)
        left_layout.addWidget(self.status)
        left_layout.addWidget(self.results, 3)
        left_layout.addWidget(local_box, 2)
        left_layout.addLayout(token_row)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.page, 1)
        right_layout.addWidget(self.downloads)
        splitter = QSplitter(objectName="modelsSplitter")
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        QVBoxLayout(self).addWidget(splitter)

    def showEvent(self, event: Any) -> None:
        if not self._shown:  # first shown: the cache, the token, and whether the Hub answers
            self._shown = True
            self.refresh_local()
        super().showEvent(event)

    def current_task(self) -> str | None:
        return self.task.currentData()

    def _task_changed(self) -> None:
        self.page.set_task(self.current_task())
        if self.query.text().strip():
            self.search()

    # ---- the Hub ------------------------------------------------------------------------------------
    def search(self) -> None:
        text, task = self.query.text().strip(), self.current_task()
        self.status.setText(f"Searching the Hub for '{text}'…" if text else "The most downloaded models…")

        def work(progress: Any, control: Any) -> Any:
            from studio.core.hub.search import search

            return search(text, registry.get(task).hub_tags if task else (), 50)

        self._searching.start(work, done=self._found, failed=self.status.setText)

    def _found(self, found: list[Any]) -> None:
        self.results.setRowCount(len(found))
        for row, f in enumerate(found):
            cells = (_cell(f.id, f.id), _cell(f"{f.downloads:,}", right=True), _cell(f"{f.likes:,}", right=True),
                     _cell(f.updated[:10]), _cell(sizes.parameters(f.parameters), right=True), _cell(f.license or ""),
                     _cell("gated" if f.gated else ""))
            for column, cell in enumerate(cells):
                self.results.setItem(row, column, cell)
        task = self.task.currentText().lower() if self.current_task() else ""
        self.status.setText(_count(len(found), "model") + (f" that {task} can start from" if task else "")
                            + ", most downloaded first." if found else "No model on the Hub matches.")

    def _open_selected(self, table: QTableWidget) -> None:
        items = table.selectedItems()
        if not items:
            return
        repo = items[0].data(Qt.ItemDataRole.UserRole)
        if not repo:
            return
        if Path(repo).is_absolute():  # a folder's model has no page on the Hub: its own files make one
            self.page.open_local(repo, self.current_task())
        else:
            self.page.open(repo, self.current_task())

    # ---- this machine -------------------------------------------------------------------------------
    def refresh_local(self) -> None:
        def work(progress: Any, control: Any) -> Any:
            from studio.core.hub import local, reach, token

            return local.everything(), local.pending(), token.source(), reach.reachable()

        self._listing.start(work, done=self._listed, failed=self.total.setText)

    def _listed(self, result: Any) -> None:
        models, pending, token_source, online = result
        self.local.setRowCount(len(models))
        for row, m in enumerate(models):
            size = sizes.text(m.size_bytes) + (" (part-way)" if m.partial_bytes else "")
            cells = (_cell(Path(m.id).name if not m.in_cache else m.id, m.id), _cell(size, right=True),
                     _cell((m.last_used or "—")[:10]), _cell("cache" if m.in_cache else m.path))
            for column, cell in enumerate(cells):
                self.local.setItem(row, column, cell)
            self.local.item(row, 0).setToolTip(m.path)
        total = sum(m.size_bytes for m in models)
        self.total.setText(f"{_count(len(models), 'model')}, {sizes.text(total)}" if models else
                           "No models here yet: download one from the Hub, or add a folder of yours.")
        self.downloads.show_pending(pending)
        self.token_status.setText(f"Token: {token_source}")
        if not online:
            self.status.setText("The Hub cannot be reached from here (no network, or HF_HUB_OFFLINE is set): "
                                "searching and downloading need it; the models on this machine are listed below.")

    def selected_local(self) -> str | None:
        items = self.local.selectedItems()
        return items[0].data(Qt.ItemDataRole.UserRole) if items else None

    def remove_selected(self) -> None:
        repo = self.selected_local()
        if repo is None or Path(repo).is_absolute():
            self.total.setText("Choose a model of the cache to remove (a folder's models are yours to manage).")
            return
        if not self.confirm_remove(repo):
            return
        from studio.core.hub import local

        try:
            freed = local.remove(repo)
        except Exception as exc:  # noqa: BLE001 - shown as a sentence where it happened
            from studio.ui.errors import describe

            self.total.setText(describe(exc))
            return
        self.refresh_local()
        self.status.setText(f"Removed {repo} ({sizes.text(freed)} freed).")

    def confirm_remove(self, repo: str) -> bool:
        answer = QMessageBox.question(self, "Remove a model", f"Delete {repo} from the Hugging Face cache? Other "
                                      "tools that share the cache lose it too; it can be downloaded again.",
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "A folder that holds models")
        if path:
            self.add_folder(path)

    def add_folder(self, path: str) -> None:
        from studio.core.hub import local

        try:
            local.add_folder(Path(path))
        except Exception as exc:  # noqa: BLE001
            from studio.ui.errors import describe

            self.total.setText(describe(exc))
            return
        self.refresh_local()

    # ---- the token ----------------------------------------------------------------------------------
    def save_token(self) -> None:
        typed = self.token.text()
        self.token_status.setText("Token: checking…")

        def work(progress: Any, control: Any) -> Any:
            from studio.core.hub import token

            return token.save(typed)

        def saved(name: str) -> None:
            self.token.clear()
            self.token_status.setText(f"Token: saved ({name})")

        def refused(sentence: str) -> None:
            self.token_status.setText("Token: refused")
            self.status.setText(sentence)

        self._token_job.start(work, done=saved, failed=refused)
