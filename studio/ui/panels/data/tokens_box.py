"""Tokens: train a tokenizer on the data, see the token-length histogram and a row cut into its tokens.

The tokenizer is trained for the family of the task's default preset (its special tokens and template),
so the run that uses it encodes the way that model expects.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFormLayout, QGroupBox, QLabel, QPushButton, QSpinBox, QTextBrowser, QVBoxLayout

from studio.core.modeling import presets
from studio.core.system import workspace
from studio.ui.widgets.plot_theme import new_plot

# Light tints as rgba(): Qt reads eight-digit hex colours as #AARRGGBB, not CSS's #RRGGBBAA.
_TOKEN_TINTS = ("rgba(79,140,255,0.25)", "rgba(224,163,58,0.25)", "rgba(63,179,127,0.25)",
                "rgba(198,91,209,0.25)", "rgba(224,90,90,0.25)", "rgba(55,182,196,0.25)")


class TokensBox(QGroupBox):
    """Emits `changed` when the tokenizer or the lengths change."""

    changed = Signal()

    def __init__(self, run_job: Callable[[Any, Any, str], None]) -> None:
        super().__init__("Tokens")
        self._run_job = run_job
        self.tokenizer_dir = ""
        self.tokenizer_family = ""
        self.tokenizer: Any = None  # the one trained here, to cut a selected row into its tokens
        self._histogram: Any = None
        form = QFormLayout(self)
        self.vocab = QSpinBox(objectName="vocabSize", minimum=261, maximum=200_000, value=4096, singleStep=1024)
        self.vocab.setToolTip("How many tokens the byte-level BPE tokenizer learns")
        self.seq_len = QSpinBox(objectName="seqLen", minimum=8, maximum=1024, value=128, singleStep=32)
        self.seq_len_label = QLabel("Sequence length")
        self.seq_len.valueChanged.connect(self._move_limit_line)
        self.seq_len.valueChanged.connect(lambda _: self.changed.emit())
        self.train_button = QPushButton("Train Tokenizer", objectName="trainTokenizerButton", enabled=False)
        self.train_button.setToolTip("Learn a BPE vocabulary from this data for the task's model family; "
                                     "training then uses it")
        self.stats = QLabel("Train a tokenizer to see token counts.", objectName="statsLabel", wordWrap=True)
        self.plot_holder = QVBoxLayout()
        self.tokens_view = QTextBrowser(objectName="tokenPreview")
        self.tokens_view.setPlaceholderText("A sample row, cut into its tokens, appears here.")
        self.tokens_view.setMaximumHeight(140)
        form.addRow("Vocabulary", self.vocab)
        form.addRow(self.seq_len_label, self.seq_len)
        form.addRow(self.train_button)
        form.addRow(self.stats)
        form.addRow(self.plot_holder)
        form.addRow(self.tokens_view)

    def set_task(self, task: Any) -> None:
        self.seq_len_label.setText(task.length_title)
        self.seq_len.setToolTip(f"{task.length_title} in tokens: rows longer than this {task.long_rows}")

    def forget(self) -> None:
        """The data changed: what was measured on the old data no longer applies."""
        self.tokenizer_dir, self.tokenizer_family = "", ""
        self.tokenizer = None
        self.stats.setText("Train a tokenizer to see token counts.")
        self.tokens_view.clear()
        if self._histogram is not None:
            self._histogram.hide()

    def train(self, preview: Any, task: Any, columns: dict[str, str]) -> None:
        names = task.tokenizer_texts(columns)
        vocab, seq_len = self.vocab.value(), self.seq_len.value()
        family = presets.family(task.default_preset)
        folder = re.sub(r"[^A-Za-z0-9_.-]+", "-", preview.label.rsplit("/", 1)[-1]).strip("-") or "data"
        out = workspace.workspace() / "tokenizers" / f"{folder}-{family}-{vocab}"

        def work(progress: Any, control: Any) -> Any:
            from studio.core.data.preview import token_pieces, token_stats
            from studio.core.data.tokenizer import save_tokenizer, train_bpe

            tok = train_bpe(preview.iter_texts(names), vocab, family=family, total=len(preview) * len(names),
                            control=control, progress=lambda f: progress(f * 0.8, "Training the tokenizer…"))
            save_tokenizer(tok, out)
            progress(0.9, "Counting tokens…")
            stats = token_stats(preview, tok, names[0], seq_len, control=control)
            sample = preview.texts(names[0], 1)[0][:1500]
            return tok, stats, token_pieces(tok, sample)

        self._run_job(work, lambda result: self._trained(str(out), family, task, *result), "Training the tokenizer…")

    def _trained(self, out: str, family: str, task: Any, tokenizer: Any, stats: Any, pieces: list[str]) -> None:
        self.tokenizer_dir, self.tokenizer_family = out, family
        self.tokenizer = tokenizer
        self.stats.setText(f"{stats.rows:,} rows, {stats.characters:,} characters, {stats.tokens:,} tokens "
                           f"(mean {stats.mean_length:.0f}, longest {stats.max_length:,}); "
                           f"{_rows_over(stats)} longer than the {task.length_title.lower()} and {task.long_rows}.")
        self._draw_histogram(stats)
        self._show_pieces(pieces)
        self.changed.emit()

    def show_row(self, text: str) -> None:
        """The row the person selected, cut into its tokens (once a tokenizer is trained)."""
        if self.tokenizer is None:
            return
        from studio.core.data.preview import token_pieces

        self._show_pieces(token_pieces(self.tokenizer, text[:1500]))

    def _show_pieces(self, pieces: list[str]) -> None:
        self.tokens_view.setHtml("".join(
            f'<span style="background-color:{_TOKEN_TINTS[i % len(_TOKEN_TINTS)]}">{_escape(p)}</span>'
            for i, p in enumerate(pieces)))

    def _draw_histogram(self, stats: Any) -> None:
        import pyqtgraph as pg

        if self._histogram is None:
            self._histogram = new_plot("lengthHistogram")
            self._histogram.setMinimumHeight(140)
            self._histogram.setLabel("bottom", "tokens per row")
            self._histogram.setLabel("left", "rows")
            self._limit = pg.InfiniteLine(angle=90, pen=pg.mkPen("#e05a5a", width=2))
            self.plot_holder.addWidget(self._histogram)
        self._histogram.show()
        plot = self._histogram.getPlotItem()
        plot.clear()
        edges = stats.histogram_edges
        if edges:
            width = (edges[1] - edges[0]) * 0.9
            centres = [(a + b) / 2 for a, b in zip(edges[:-1], edges[1:])]
            plot.addItem(pg.BarGraphItem(x=centres, height=stats.histogram_counts, width=width, brush="#4f8cff"))
        plot.addItem(self._limit)
        self._move_limit_line()

    def _move_limit_line(self, *_: Any) -> None:
        if self._histogram is not None:
            self._limit.setValue(self.seq_len.value())


def _escape(text: str) -> str:
    return html.escape(text).replace("\n", "⏎<br>").replace(" ", "&nbsp;")


def _rows_over(stats: Any) -> str:
    """How many rows are over the limit, as a count (a share rounded to whole percents said "0 %" of one row in
    three hundred that was over)."""
    over = round(stats.truncated_share * stats.rows)
    if over == 0:
        return "no row is"
    return f"{over:,} {'row is' if over == 1 else 'rows are'} ({stats.truncated_share:.1%})"
