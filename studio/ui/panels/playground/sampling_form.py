"""Decoding controls with presets; each explains itself in a tooltip. Summarization adds beams and lengths."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QSpinBox, QWidget

from studio.core.playground.sampling import PRESETS, SUMMARY_DEFAULTS, Sampling

_CUSTOM = "custom"


class SamplingForm(QWidget):
    changed = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("samplingForm")
        self.beams_shown = False
        self.preset = QComboBox(objectName="presetCombo")
        for name in PRESETS:
            self.preset.addItem(name.capitalize(), name)
        self.preset.addItem("Custom", _CUSTOM)
        self.preset.setToolTip("Precise: focused and repeatable-ish. Balanced: the default. Creative: more "
                               "surprising. Changing any value below makes it Custom.")
        self.greedy = QCheckBox("Greedy: always the likeliest token", objectName="greedyCheck")
        self.greedy.setToolTip("Pick the most likely token every time. The output is the same on every run and "
                               "identical to `studio generate --greedy`; temperature, top-k and top-p do nothing.")
        self.temperature = self._float("temperatureSpin", 0.05, 2.0, 0.05, 2,
                                       "Divides the scores before sampling: below 1 sharpens (safer), above 1 "
                                       "flattens (more varied).")
        self.top_k = self._int("topKSpin", 0, 1000, "Sample only among the k likeliest tokens; 0 turns it off.")
        self.top_p = self._float("topPSpin", 0.05, 1.0, 0.01, 2,
                                 "Nucleus sampling: sample among the fewest tokens whose probabilities add up to "
                                 "p; 1 turns it off.")
        self.repetition = self._float("repetitionSpin", 0.5, 2.0, 0.05, 2,
                                      "Above 1 makes tokens already in the text less likely (fewer loops); 1 is off.")
        self.max_tokens = self._int("maxTokensSpin", 1, 4096, "The most tokens to generate.")
        self.seed = self._int("seedSpin", -1, 2**31 - 1, "A fixed seed gives the same sampled text again; "
                              "'random' draws a new one each time.")
        self.seed.setSpecialValueText("random")
        self.beams = self._int("beamsSpin", 1, 16, "Beam search keeps this many candidate summaries and returns "
                               "the best; 1 is plain decoding, which streams. Beams do not stream.")
        self.min_tokens = self._int("minTokensSpin", 0, 4096, "The summary is at least this many tokens long.")
        self.length_penalty = self._float("lengthPenaltySpin", -2.0, 3.0, 0.1, 1,
                                          "With beams: above 1 favours longer summaries, below 1 shorter ones.")
        self.no_repeat = self._int("noRepeatSpin", 0, 20, "Never repeat a run of this many tokens, so a summary "
                                   "cannot loop (\"the file of the file of ...\"); 0 is off.")
        self.no_repeat.setSpecialValueText("off")
        self.form = QFormLayout(self)
        self.form.addRow("Preset", self.preset)
        self.form.addRow(self.greedy)
        self.form.addRow("Temperature", self.temperature)
        self.form.addRow("Top-k", self.top_k)
        self.form.addRow("Top-p", self.top_p)
        self.form.addRow("Repetition penalty", self.repetition)
        self.form.addRow("Max new tokens", self.max_tokens)
        self.form.addRow("Seed", self.seed)
        self.form.addRow("Beams", self.beams)
        self.form.addRow("Min output tokens", self.min_tokens)
        self.form.addRow("Length penalty", self.length_penalty)
        self.form.addRow("No repeated n-grams", self.no_repeat)
        self.set_sampling(Sampling(max_new_tokens=64, seed=None))
        self.preset.currentIndexChanged.connect(self._preset_chosen)
        for spin in (self.temperature, self.top_k, self.top_p, self.repetition):
            spin.valueChanged.connect(self._value_changed)
        for spin in (self.max_tokens, self.seed, self.min_tokens, self.length_penalty, self.no_repeat):
            spin.valueChanged.connect(self.changed)
        self.beams.valueChanged.connect(lambda _: self._greedy_toggled(self.greedy.isChecked()))
        self.greedy.toggled.connect(self._greedy_toggled)
        # what each sampling control does, said again when it comes back from being greyed out
        self._tips = {w: w.toolTip() for w in (self.temperature, self.top_k, self.top_p, self.seed, self.preset)}
        self.set_beams(False)

    def _float(self, name: str, low: float, high: float, step: float, decimals: int, tip: str) -> QDoubleSpinBox:
        spin = QDoubleSpinBox(objectName=name, minimum=low, maximum=high, singleStep=step, decimals=decimals)
        spin.setToolTip(tip)
        return spin

    def _int(self, name: str, low: int, high: int, tip: str) -> QSpinBox:
        spin = QSpinBox(objectName=name, minimum=low, maximum=high)
        spin.setToolTip(tip)
        return spin

    def set_beams(self, beams: bool, defaults: dict[str, Any] | None = None) -> None:
        """Beam search and length controls for a task that writes a whole answer (a summary, a translation),
        which starts from `defaults`, its command's (as `studio summarize` or `studio translate` does); plain
        sampling for one that continues text."""
        if beams and not self.beams_shown:
            chosen = {**SUMMARY_DEFAULTS, **(defaults or {})}
            self.greedy.setChecked(False)
            self.beams.setValue(chosen["num_beams"])
            self.no_repeat.setValue(chosen["no_repeat_ngram_size"])
        self.beams_shown = beams
        for widget in (self.beams, self.min_tokens, self.length_penalty, self.no_repeat):
            self.form.setRowVisible(widget, beams)
        self.form.labelForField(self.max_tokens).setText("Max output tokens" if beams else "Max new tokens")
        self._greedy_toggled(self.greedy.isChecked())

    def set_sampling(self, s: Sampling) -> None:
        blockers = [w.blockSignals(True) for w in (self.temperature, self.top_k, self.top_p, self.repetition)]
        self.temperature.setValue(s.temperature)
        self.top_k.setValue(s.top_k)
        self.top_p.setValue(s.top_p)
        self.repetition.setValue(s.repetition_penalty)
        for w, was in zip((self.temperature, self.top_k, self.top_p, self.repetition), blockers):
            w.blockSignals(was)
        self.max_tokens.setValue(s.max_new_tokens)
        self.seed.setValue(-1 if s.seed is None else s.seed)
        self.greedy.setChecked(s.greedy)
        self.beams.setValue(s.num_beams)
        self.min_tokens.setValue(s.min_new_tokens)
        self.length_penalty.setValue(s.length_penalty)
        self.no_repeat.setValue(s.no_repeat_ngram_size)
        self._sync_preset()

    def sampling(self) -> Sampling:
        summarize = self.beams_shown
        return Sampling(max_new_tokens=self.max_tokens.value(), temperature=self.temperature.value(),
                        top_k=self.top_k.value(), top_p=self.top_p.value(),
                        repetition_penalty=self.repetition.value(),
                        seed=None if self.seed.value() < 0 else self.seed.value(), greedy=self.greedy.isChecked(),
                        num_beams=self.beams.value() if summarize else 1,
                        length_penalty=self.length_penalty.value(),
                        min_new_tokens=min(self.min_tokens.value(), self.max_tokens.value()) if summarize else 0,
                        no_repeat_ngram_size=self.no_repeat.value() if summarize else 0)

    def settings(self) -> dict[str, Any]:
        return dict(self.sampling().__dict__)

    def _preset_chosen(self, _: int) -> None:
        name = self.preset.currentData()
        if name != _CUSTOM:
            self.set_sampling(self.sampling().with_preset(name))
            self.changed.emit()

    def _value_changed(self, *_: Any) -> None:
        self._sync_preset()
        self.changed.emit()

    def _sync_preset(self) -> None:
        name = self.sampling().preset_name() or _CUSTOM
        self.preset.blockSignals(True)
        self.preset.setCurrentIndex(self.preset.findData(name))
        self.preset.blockSignals(False)

    def _greedy_toggled(self, greedy: bool) -> None:
        searching = self.beams_shown and self.beams.value() > 1  # beam search does not sample either
        # a greyed-out control says why, in place of what it does
        why = ("Off: beam search keeps the likeliest sequences and does not sample; set Beams to 1 to sample."
               if searching else "Off: greedy decoding picks the likeliest token and does not sample." if greedy
               else "")
        for widget, tip in self._tips.items():
            widget.setEnabled(not why)
            widget.setToolTip(why or tip)
        self.greedy.setEnabled(not searching)
        self.changed.emit()
