"""For a classifier: what its prediction rests on. Token attributions toward a chosen label, drawn over
the text right above the pooled token's row of attention (the [CLS] row for BERT), so a person sees
where attention and attribution agree, with their rank correlation as a number."""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from studio.ui.jobs import Latest
from studio.ui.panels.attention.token_strip import TokenStrip
from studio.ui.widgets.messages import ErrorLabel


class AttributionView(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("attributionView")
        from studio.core.attention.attribution import METHODS

        self.loaded: Any = None
        self.result: Any = None
        self._attention: tuple[np.ndarray, str] | None = None
        self._jobs = Latest(self)
        self.label = QComboBox(objectName="attributionLabel", toolTip="Explain the model's score for this label "
                                                                      "(the predicted one by default)")
        self.method = QComboBox(objectName="attributionMethod",
                                toolTip="Integrated gradients: the change from a padded baseline, summed along the "
                                        "way (slower, exact in total). Gradient × input: one backward pass.")
        for key, title in METHODS.items():
            self.method.addItem(title, key)
        self.explain_button = QPushButton("Explain", objectName="explainButton",
                                          toolTip="Attribute the label's score to each token of the text")
        self.busy = QProgressBar(objectName="attributionBusy", maximum=0, visible=False, maximumHeight=8,
                                 textVisible=False)
        self.prediction = QLabel(objectName="attributionPrediction", wordWrap=True)
        self.attribution_caption = QLabel("<b>Attribution</b> (green pushes toward the label, red away)")
        self.attribution = TokenStrip("attributionStrip")
        self.attention_caption = QLabel(objectName="pooledAttentionCaption")
        self.attention = TokenStrip("pooledAttentionStrip")
        self.agreement = QLabel(objectName="agreementLabel", wordWrap=True)
        self.error = ErrorLabel("attributionError")
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Label"))
        controls.addWidget(self.label, 1)
        controls.addWidget(self.method)
        controls.addWidget(self.explain_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(self.busy)
        layout.addWidget(self.prediction)
        layout.addWidget(self.error)
        layout.addWidget(self.attribution_caption)
        layout.addWidget(self.attribution, 1)
        layout.addWidget(self.attention_caption)
        layout.addWidget(self.attention, 1)
        layout.addWidget(self.agreement)
        layout.addStretch(0)  # takes the room only while the strips are hidden, keeping the words at the top

    def set_model(self, loaded: Any) -> None:
        self.loaded = loaded
        self.result = None
        self.label.clear()
        self.label.addItem("the predicted label", None)
        for name in loaded.labels:
            self.label.addItem(name, name)
        for strip in (self.attribution, self.attention):
            strip.set_tokens([])
        self.prediction.setText("Show the attention of a text, then Explain what the prediction rests on.")
        self.agreement.setText("")
        self._show_result(False)

    def _show_result(self, on: bool) -> None:
        """Empty strips and captions before anything is explained read as a result that failed to come."""
        for widget in (self.attribution_caption, self.attribution, self.attention_caption, self.attention,
                       self.agreement):
            widget.setVisible(on)

    @property
    def running(self) -> bool:
        return self._jobs.running

    def explain(self, text: str) -> None:
        from studio.core.attention.attribution import attribute

        loaded, label, method = self.loaded, self.label.currentData(), self.method.currentData()
        self.error.clear_message()
        self.busy.show()
        self.explain_button.setEnabled(False)
        self.prediction.setText(f"Explaining {label or 'the predicted label'} with "
                                f"{self.method.currentText().lower()}…")
        self._jobs.start(lambda progress, control: attribute(loaded, text, label, method=method),
                         done=self._explained, failed=self._failed)

    def _failed(self, message: str) -> None:
        self.busy.hide()
        self.explain_button.setEnabled(True)
        self.prediction.setText("")
        self.error.show_message(message)

    def _explained(self, result: Any) -> None:
        from studio.core.attention.attribution import METHODS

        self.busy.hide()
        self.explain_button.setEnabled(True)
        self.result = result
        ranked = sorted(result.probabilities.items(), key=lambda kv: -kv[1])
        shown = ", ".join(f"{n} {p:.1%}" for n, p in ranked[:4])
        # integrated gradients' completeness: the token scores should add up to how far the prediction is from
        # that of an empty text; the gap says how well they do, in the prediction's own units
        check = (f". The token scores add up to the prediction (counted from that of an empty text) give or take "
                 f"{abs(result.delta):.3f}" if result.delta is not None else "")
        self.prediction.setText(f"Predicted <b>{ranked[0][0]}</b> ({shown}). Explaining <b>{result.label}</b> with "
                                f"{METHODS[result.method].lower()}{check}.")
        self.attribution.set_tokens(result.tokens, result.scores, signed=True)
        self._show_result(True)
        self._draw_attention()

    def set_attention(self, matrix: np.ndarray, tokens: list[str], title: str) -> None:
        """The attention map on screen; its row at the pooled token is drawn under the attributions."""
        self._attention = (matrix, tokens, title)
        self._draw_attention()

    def _draw_attention(self) -> None:
        from studio.core.attention.attribution import agreement

        if self.result is None or self._attention is None:
            return
        matrix, tokens, title = self._attention
        pooled = self.result.pooled
        if tokens != self.result.tokens or matrix.shape[0] != len(tokens):
            self.attention_caption.setText("The attention shown is of another text (or has tokens hidden); show the "
                                           "attention of this text to compare.")
            self.attention.set_tokens([])
            self.agreement.setText("")
            return
        row = matrix[pooled]
        self.attention_caption.setText(f"<b>Attention of '{tokens[pooled]}'</b> [{pooled}], the token the "
                                       f"classification head reads: {title}")
        self.attention.set_tokens(tokens, row, selected=pooled)
        keep = [not s for s in self.result.special]
        rho = agreement(row, self.result.scores, keep)
        self.agreement.setText("Too few tokens to compare." if rho is None else
                               f"Agreement between this attention and the size of the attributions (Spearman rank "
                               f"correlation over the text's tokens): {rho:+.2f}. Attention is where the token "
                               "looks; attribution is what changes the answer.")
