"""The Data panel: open data, preview it, choose the task and its columns, split, and see how it
tokenizes. The task follows the data: a `text,label` file opens as classification."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from studio.core.data import samples, sources
from studio.core.system import workspace
from studio.core.tasks import registry
from studio.ui import settings
from studio.ui.jobs import Latest
from studio.ui.panels.data.columns_box import ColumnsBox
from studio.ui.panels.data.sample_combo import SampleCombo
from studio.ui.panels.data.tokens_box import TokensBox
from studio.ui.widgets.dataset_model import DatasetTableModel
from studio.ui.widgets.messages import ErrorLabel

_NARROW_COLUMN_PX = 280


# every kind of file the loader reads, from its own table, so none is left out of the dialog
OPEN_FILTER = f"Data ({' '.join('*' + suffix for suffix in sources.BUILDERS)});;All files (*)"


class DataPanel(QWidget):
    """Emits `changed` whenever what would be trained on changes (source, task, columns, tokenizer)."""

    changed = Signal()
    file_opened = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("dataPanel")
        self.setAcceptDrops(True)
        self.preview = None
        self._jobs = Latest(self, cancel_previous=True)
        self.columns_box = ColumnsBox()
        self.tokens_box = TokensBox(self._run)
        self.task = self.columns_box.task
        self._build()
        self.columns_box.changed.connect(self._columns_changed)
        self.tokens_box.changed.connect(self.changed)
        self.tokens_box.train_button.clicked.connect(self.train_tokenizer)
        self._columns_changed()

    # ---- layout -------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.source = QLineEdit(objectName="dataSource",
                                placeholderText="Type or paste a path and press Return, open a file or folder, drop "
                                                "one here, or pick a sample")
        self.source.setToolTip("A file, a folder or sample:NAME; Return opens what is typed")
        self.source.returnPressed.connect(self._typed_source)
        open_file = QPushButton("Open File…", objectName="openFileButton", clicked=self.choose_file)
        open_file.setToolTip("A .txt, .csv, .jsonl, .json, .parquet or .conll file (Ctrl+O)")
        # how many rows, for every task, from the moment the data opens (not only once a tokenizer is trained)
        self.row_count = QLabel(objectName="rowCount")
        self.row_count.setProperty("muted", True)
        open_folder = QPushButton("Open Folder…", objectName="openFolderButton", clicked=self.choose_folder)
        open_folder.setToolTip("A folder of files of one kind; every file in it is loaded")
        self.sample = SampleCombo()
        self.sample.activated.connect(self._sample_chosen)
        top = QHBoxLayout()
        for w in (self.source, self.row_count, open_file, open_folder, self.sample):
            top.addWidget(w)
        self.error = ErrorLabel("dataError")
        self.progress = QProgressBar(objectName="dataProgress", visible=False)
        self.cancel = QPushButton("Cancel", objectName="dataCancel", visible=False, clicked=self._cancel)
        busy = QHBoxLayout()
        busy.addWidget(self.progress, 1)
        busy.addWidget(self.cancel)

        self.model = DatasetTableModel()
        self.table = QTableView(objectName="previewTable")
        self.table.setModel(self.model)
        self.table.selectionModel().currentRowChanged.connect(self._row_chosen)
        self.table.setWordWrap(False)
        self.empty = QLabel("No data yet. Open a file or folder, drop one on this window, or choose a built-in "
                            "sample to start.", objectName="dataEmpty", alignment=Qt.AlignmentFlag.AlignCenter,
                            wordWrap=True)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.empty)
        left_layout.addWidget(self.table, 1)
        self.table.hide()
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(self.columns_box)
        side_layout.addWidget(self.tokens_box, 1)
        scroll = QScrollArea(widgetResizable=True, objectName="dataSide")
        scroll.setWidget(side)
        scroll.setMinimumWidth(360)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(scroll)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.error)
        layout.addLayout(busy)
        layout.addWidget(splitter, 1)

    # ---- opening data -------------------------------------------------------------------------------
    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open data", settings.value("data/last_dir", ""),
                                              OPEN_FILTER)
        if path:
            self.open_source(path)

    def choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open a folder of data", settings.value("data/last_dir", ""))
        if path:
            self.open_source(path)

    def _typed_source(self) -> None:
        typed = self.source.text().strip().strip("'\"")  # a path pasted from a shell may come quoted
        if typed:
            self.open_source(typed if samples.is_sample(typed) else str(Path(typed).expanduser()))

    def _sample_chosen(self, index: int) -> None:
        source = self.sample.itemData(index)
        if source:
            self.open_source(source)
        self.sample.setCurrentIndex(0)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt's name
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        urls = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            self.open_source(urls[0])

    def open_source(self, source: str) -> None:
        """Load `source` in the background; the preview and columns fill in when it is ready."""
        self.error.clear_message()
        cache = workspace.cache_dir(workspace.workspace())

        def work(progress: Any, control: Any) -> Any:
            from studio.core.data.preview import open_preview

            progress(0.0, f"Loading {source}…")
            if samples.is_sample(source):
                samples.sample_path(source, cache)
            preview = open_preview(source, cache)
            suggested = registry.for_sample(source) or registry.suggest(preview.dataset)
            return preview, suggested.name if suggested else None

        self._run(work, lambda result: self._opened(source, *result), f"Loading {source}…")

    def _opened(self, source: str, preview: Any, task: str | None) -> None:
        self.preview = preview
        self.columns_box.preview = preview
        self.source.setText(source)
        self.row_count.setText(f"{len(preview):,} rows")
        self.model.set_preview(preview)
        self._fit_columns()
        self.empty.hide()
        self.table.show()
        self.tokens_box.forget()
        if not samples.is_sample(source):
            settings.add_recent(source)
            settings.set_value("data/last_dir", str(Path(source).parent))
        self.columns_box.blockSignals(True)
        if task is not None:
            self.columns_box.set_task(task)
        self.columns_box.blockSignals(False)
        self.columns_box.show_columns(preview.columns)
        self.file_opened.emit(source)

    def _fit_columns(self) -> None:
        """Short columns (labels, ids) as wide as their values; the widest one (the text) takes the rest."""
        header = self.table.horizontalHeader()
        header.setStretchLastSection(False)
        count = self.model.columnCount()
        for column in range(count):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
        self.table.resizeColumnsToContents()  # Qt measures the first thousand rows, not the whole file
        widths = [self.table.columnWidth(c) for c in range(count)]
        for column, width in enumerate(widths):
            self.table.setColumnWidth(column, min(width, _NARROW_COLUMN_PX))
        if widths:
            header.setSectionResizeMode(max(range(count), key=widths.__getitem__), QHeaderView.ResizeMode.Stretch)

    # ---- what the rest of the window reads ----------------------------------------------------------
    def set_task(self, name: str) -> None:
        """Show the task a person chose last time (the first when it is no longer installed)."""
        self.task.setCurrentIndex(max(0, self.task.findData(name)))

    def current_task(self) -> str:
        return self.columns_box.current_task().name

    def columns(self) -> dict[str, str]:
        return self.columns_box.columns()

    def mapping_ok(self) -> bool:
        return self.columns_box.mapping_ok()

    def _columns_changed(self) -> None:
        self.tokens_box.set_task(self.columns_box.current_task())
        self.tokens_box.train_button.setEnabled(self.mapping_ok())
        self.changed.emit()

    def selection(self) -> dict[str, Any]:
        """What the training wizard takes from this panel, as RunConfig fields (and the tokenizer's family)."""
        task = self.columns_box.current_task()
        out = {"data": self.source.text(), "task": task.name,
               "validation_fraction": self.columns_box.validation.value() / 100,
               "tokenizer": self.tokens_box.tokenizer_dir, "tokenizer_family": self.tokens_box.tokenizer_family,
               "vocab_size": self.tokens_box.vocab.value(), "seq_len": self.tokens_box.seq_len.value()}
        out.update({f"{role}_column": name for role, name in self.columns().items()})
        return out

    def _row_chosen(self, current: Any, _previous: Any = None) -> None:
        """The token sample follows the row the person picks in the table."""
        if self.preview is None or not current.isValid() or not self.mapping_ok():
            return
        names = self.columns_box.current_task().tokenizer_texts(self.columns())
        if names:
            self.tokens_box.show_row(self.preview.row_text(names[0], current.row()))

    def train_tokenizer(self) -> None:
        if not self.mapping_ok():
            self.error.show_message("Choose data and valid columns before training a tokenizer.")
            return
        self.tokens_box.train(self.preview, self.columns_box.current_task(), self.columns())

    # ---- background work ----------------------------------------------------------------------------
    def _run(self, work: Any, done: Any, message: str) -> None:
        self.progress.setFormat(message + " %p%")
        self.progress.setValue(0)
        self.progress.show()
        self.cancel.show()
        self._jobs.start(work, progress=lambda f, m: (self.progress.setValue(int(f * 100)),
                                                      m and self.progress.setFormat(m + " %p%")),
                         done=lambda result: (self._idle(), done(result)),
                         failed=lambda text: (self._idle(), self.error.show_message(text)), cancelled=self._idle)

    def _idle(self) -> None:
        self.progress.hide()
        self.cancel.hide()

    def _cancel(self) -> None:
        self._jobs.cancel()

    @property
    def busy(self) -> bool:
        return self._jobs.running
