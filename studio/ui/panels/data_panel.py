"""The Data panel: open data, preview it, map columns, split, and see how it tokenizes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (QComboBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit,
                               QProgressBar, QPushButton, QSpinBox, QSplitter, QTableView, QTextBrowser,
                               QVBoxLayout, QWidget)

from studio.core.data import samples
from studio.core.system import workspace
from studio.core.data.sources import ColumnMap
from studio.core.errors import StudioError
from studio.ui import settings
from studio.ui.jobs import Job
from studio.ui.widgets.dataset_model import DatasetTableModel
from studio.ui.widgets.messages import ErrorLabel
from studio.ui.widgets.plot_theme import new_plot

TASKS = [("Language modelling", "lm"), ("Summarization", "summarize")]
_NONE = "(none)"
_COLUMN_BOXES = {"text": "the Text column box", "source": "the Source column box",
                 "target": "the Target column box"}
_TOKEN_COLOURS = ("#4f8cff", "#e0a33a", "#3fb37f", "#c65bd1", "#e05a5a", "#37b6c4")


class DataPanel(QWidget):
    """Emits `changed` whenever what would be trained on changes (source, task, columns, tokenizer)."""

    changed = Signal()
    file_opened = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("dataPanel")
        self.setAcceptDrops(True)
        self.preview = None
        self.tokenizer_dir = ""
        self._tokenizer: Any = None
        self._job: Job | None = None
        self._histogram: Any = None
        self._build()

    # ---- layout -------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.source = QLineEdit(objectName="dataSource", readOnly=True,
                                placeholderText="Open a file or folder, drop one here, or pick a sample")
        open_file = QPushButton("Open File…", objectName="openFileButton", clicked=self.choose_file)
        open_file.setToolTip("A .txt, .csv, .jsonl, .json or .parquet file (Ctrl+O)")
        open_folder = QPushButton("Open Folder…", objectName="openFolderButton", clicked=self.choose_folder)
        open_folder.setToolTip("A folder of files of one kind; every file in it is loaded")
        self.sample = QComboBox(objectName="sampleCombo")
        self.sample.addItem("Built-in sample…", "")
        for name, (_, description) in samples.SAMPLES.items():
            self.sample.addItem(f"sample:{name}", f"sample:{name}")
            self.sample.setItemData(self.sample.count() - 1, description, Qt.ItemDataRole.ToolTipRole)
        self.sample.activated.connect(self._sample_chosen)
        top = QHBoxLayout()
        for w in (self.source, open_file, open_folder, self.sample):
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
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.empty = QLabel("No data yet. Open a file or folder, drop one on this window, or choose a built-in "
                            "sample to start.", objectName="dataEmpty", alignment=Qt.AlignmentFlag.AlignCenter,
                            wordWrap=True)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.empty)
        left_layout.addWidget(self.table, 1)
        self.table.hide()
        splitter.addWidget(left)
        splitter.addWidget(self._side())
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.error)
        layout.addLayout(busy)
        layout.addWidget(splitter, 1)

    def _side(self) -> QWidget:
        side = QWidget()
        layout = QVBoxLayout(side)
        layout.setContentsMargins(0, 0, 0, 0)
        mapping = QGroupBox("Columns")
        form = QFormLayout(mapping)
        self.task = QComboBox(objectName="taskCombo")
        for label, value in TASKS:
            self.task.addItem(label, value)
        self.task.setToolTip("Language modelling learns to continue text; summarization learns source → target")
        self.text_column = QComboBox(objectName="textColumn", toolTip="The column holding the text to learn")
        self.source_column = QComboBox(objectName="sourceColumn", toolTip="The text to summarize")
        self.target_column = QComboBox(objectName="targetColumn", toolTip="Its summary")
        self.mapping_error = ErrorLabel("mappingError")
        self.validation = QSpinBox(objectName="validationSplit", minimum=1, maximum=49, value=5, suffix=" %")
        self.validation.setToolTip("Share of rows held out to measure validation loss (never trained on)")
        form.addRow("Task", self.task)
        form.addRow("Text column", self.text_column)
        form.addRow("Source column", self.source_column)
        form.addRow("Target column", self.target_column)
        form.addRow("Validation", self.validation)
        form.addRow(self.mapping_error)
        self.task.currentIndexChanged.connect(self._guess_columns)
        for combo in (self.text_column, self.source_column, self.target_column):
            combo.currentIndexChanged.connect(self._mapping_changed)
        self.validation.valueChanged.connect(lambda _: self.changed.emit())

        tokens = QGroupBox("Tokens")
        tform = QFormLayout(tokens)
        self.vocab = QSpinBox(objectName="vocabSize", minimum=260, maximum=200_000, value=4096, singleStep=1024)
        self.vocab.setToolTip("How many tokens the byte-level BPE tokenizer learns")
        self.seq_len = QSpinBox(objectName="seqLen", minimum=8, maximum=1024, value=128, singleStep=32)
        self.seq_len.setToolTip("Tokens the model reads at once; longer rows are split (LM) or cut (summaries)")
        self.seq_len.valueChanged.connect(self._move_truncation_line)
        self.seq_len.valueChanged.connect(lambda _: self.changed.emit())
        self.train_tokenizer_button = QPushButton("Train Tokenizer", objectName="trainTokenizerButton",
                                                  clicked=self.train_tokenizer, enabled=False)
        self.train_tokenizer_button.setToolTip("Learn a BPE vocabulary from this data; training then uses it")
        self.stats = QLabel("Train a tokenizer to see token counts.", objectName="statsLabel", wordWrap=True)
        self.plot_holder = QVBoxLayout()
        self.tokens_view = QTextBrowser(objectName="tokenPreview")
        self.tokens_view.setPlaceholderText("A sample row, cut into its tokens, appears here.")
        self.tokens_view.setMaximumHeight(140)
        tform.addRow("Vocabulary", self.vocab)
        tform.addRow("Sequence length", self.seq_len)
        tform.addRow(self.train_tokenizer_button)
        tform.addRow(self.stats)
        tform.addRow(self.plot_holder)
        tform.addRow(self.tokens_view)
        layout.addWidget(mapping)
        layout.addWidget(tokens, 1)
        self._show_columns([])
        return side

    # ---- opening data -------------------------------------------------------------------------------
    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open data", settings.value("data/last_dir", ""),
                                              "Data (*.txt *.csv *.jsonl *.json *.parquet);;All files (*)")
        if path:
            self.open_source(path)

    def choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open a folder of data", settings.value("data/last_dir", ""))
        if path:
            self.open_source(path)

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
            return open_preview(source, cache)

        self._run(work, lambda preview: self._opened(source, preview), f"Loading {source}…")

    def _opened(self, source: str, preview: Any) -> None:
        self.preview = preview
        self.source.setText(source)
        self.model.set_preview(preview)
        self.empty.hide()
        self.table.show()
        self._tokenizer, self.tokenizer_dir = None, ""
        self.stats.setText("Train a tokenizer to see token counts.")
        self.tokens_view.clear()
        if samples.is_sample(source):
            self.task.setCurrentIndex([v for _, v in TASKS].index(samples.sample_task(source)))
        else:
            settings.add_recent(source)
            settings.set_value("data/last_dir", str(Path(source).parent))
        self._show_columns(preview.text_columns)
        self.train_tokenizer_button.setEnabled(True)
        self.file_opened.emit(source)
        self.changed.emit()

    # ---- columns ------------------------------------------------------------------------------------
    def _show_columns(self, columns: list[str]) -> None:
        for combo in (self.text_column, self.source_column, self.target_column):
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(_NONE, "")
            for c in columns:
                combo.addItem(c, c)
            combo.blockSignals(False)
        self._guess_columns()

    def _guess_columns(self, *_: Any) -> None:
        if self.preview is None:
            self._update_column_visibility()
            return
        try:
            guess = self.preview.mapping(self.current_task(), ColumnMap())
        except StudioError:
            guess = ColumnMap()
        for combo, value in ((self.text_column, guess.text), (self.source_column, guess.source),
                             (self.target_column, guess.target)):
            combo.blockSignals(True)
            combo.setCurrentIndex(max(0, combo.findData(value or "")))
            combo.blockSignals(False)
        self._mapping_changed()

    def current_task(self) -> str:
        return self.task.currentData()

    def _update_column_visibility(self) -> None:
        lm = self.current_task() == "lm"
        form = self.text_column.parentWidget().layout()
        for combo, show in ((self.text_column, lm), (self.source_column, not lm), (self.target_column, not lm)):
            form.setRowVisible(combo, show)

    def _mapping_changed(self, *_: Any) -> None:
        self._update_column_visibility()
        self.mapping_error.clear_message()
        if self.preview is not None:
            try:
                self.preview.mapping(self.current_task(), self.columns(), _COLUMN_BOXES)
            except StudioError as exc:
                self.mapping_error.show_message(str(exc))
        self.changed.emit()

    def columns(self) -> ColumnMap:
        if self.current_task() == "lm":
            return ColumnMap(text=self.text_column.currentData() or None)
        return ColumnMap(source=self.source_column.currentData() or None,
                         target=self.target_column.currentData() or None)

    def mapping_ok(self) -> bool:
        return self.preview is not None and self.mapping_error.isHidden()

    def selection(self) -> dict[str, Any]:
        """What the training wizard takes from this panel, as RunConfig fields."""
        cols = self.columns()
        return {"data": self.source.text(), "task": self.current_task(), "text_column": cols.text or "",
                "source_column": cols.source or "", "target_column": cols.target or "",
                "validation_fraction": self.validation.value() / 100, "tokenizer": self.tokenizer_dir,
                "vocab_size": self.vocab.value(), "seq_len": self.seq_len.value()}

    # ---- tokenizer and statistics -------------------------------------------------------------------
    def train_tokenizer(self) -> None:
        if not self.mapping_ok():
            self.error.show_message("Choose data and valid columns before training a tokenizer.")
            return
        preview, cols, vocab, seq_len = self.preview, self.columns(), self.vocab.value(), self.seq_len.value()
        names = [cols.text] if cols.text else [cols.source, cols.target]
        out = workspace.workspace() / "tokenizers" / f"{Path(preview.label).stem or 'data'}-{vocab}"

        def work(progress: Any, control: Any) -> Any:
            from studio.core.data.preview import token_pieces, token_stats
            from studio.core.data.tokenizer import save_tokenizer, train_bpe

            tok = train_bpe(preview.iter_texts(names), vocab, total=len(preview) * len(names), control=control,
                            progress=lambda f: progress(f * 0.8, "Training the tokenizer…"))
            save_tokenizer(tok, out)
            progress(0.9, "Counting tokens…")
            stats = token_stats(preview, tok, names[0], seq_len, control=control)
            sample = preview.texts(names[0], 1)[0][:1500]
            return tok, stats, token_pieces(tok, sample)

        self._run(work, lambda result: self._tokenized(str(out), *result), "Training the tokenizer…")

    def _tokenized(self, out: str, tokenizer: Any, stats: Any, pieces: list[str]) -> None:
        self._tokenizer, self.tokenizer_dir = tokenizer, out
        self.stats.setText(f"{stats.rows:,} rows, {stats.characters:,} characters, {stats.tokens:,} tokens "
                           f"(mean {stats.mean_length:.0f}, longest {stats.max_length:,}); "
                           f"{stats.truncated_share:.0%} of rows are longer than the sequence length.")
        self._draw_histogram(stats)
        self.tokens_view.setHtml("".join(
            f'<span style="background:{_TOKEN_COLOURS[i % len(_TOKEN_COLOURS)]}40">{_escape(p)}</span>'
            for i, p in enumerate(pieces)))
        self.changed.emit()

    def _draw_histogram(self, stats: Any) -> None:
        import pyqtgraph as pg

        if self._histogram is None:
            self._histogram = new_plot("lengthHistogram")
            self._histogram.setMinimumHeight(140)
            self._histogram.setLabel("bottom", "tokens per row")
            self._histogram.setLabel("left", "rows")
            self._truncation = pg.InfiniteLine(angle=90, pen=pg.mkPen("#e05a5a", width=2))
            self.plot_holder.addWidget(self._histogram)
        plot = self._histogram.getPlotItem()
        plot.clear()
        edges = stats.histogram_edges
        if edges:
            width = (edges[1] - edges[0]) * 0.9
            centres = [(a + b) / 2 for a, b in zip(edges[:-1], edges[1:])]
            plot.addItem(pg.BarGraphItem(x=centres, height=stats.histogram_counts, width=width, brush="#4f8cff"))
        plot.addItem(self._truncation)
        self._move_truncation_line()

    def _move_truncation_line(self, *_: Any) -> None:
        if self._histogram is not None:
            self._truncation.setValue(self.seq_len.value())

    # ---- background work ----------------------------------------------------------------------------
    def _run(self, work: Any, done: Any, message: str) -> None:
        if self._job is not None and self._job.running:
            self._job.cancel()
        job = Job(work, self)
        self._job = job
        self.progress.setFormat(message + " %p%")
        self.progress.setValue(0)
        self.progress.show()
        self.cancel.show()
        job.progress.connect(lambda f, m: (self.progress.setValue(int(f * 100)),
                                           m and self.progress.setFormat(m + " %p%")))
        job.done.connect(lambda result: (self._idle(job), done(result)))
        job.failed.connect(lambda text: (self._idle(job), self.error.show_message(text)))
        job.cancelled.connect(lambda: self._idle(job))
        job.start()

    def _idle(self, job: Job) -> None:
        if job is self._job:
            self.progress.hide()
            self.cancel.hide()

    def _cancel(self) -> None:
        if self._job is not None:
            self._job.cancel()

    @property
    def busy(self) -> bool:
        return self._job is not None and self._job.running


def _escape(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\n", "⏎<br>")
            .replace(" ", "&nbsp;"))
