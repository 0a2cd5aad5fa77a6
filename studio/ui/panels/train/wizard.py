"""The training wizard: task and data, model, settings, review. It validates as the person types and
shows the equivalent `studio train` command, so nothing in the window is out of reach of a script.

Tasks, their presets and what their models need come from the task registry.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from studio.core.errors import StudioError
from studio.core.modeling.presets import PRESETS
from studio.core.tasks import registry
from studio.core.training import config as run_config
from studio.core.training.config import RunConfig
from studio.ui.jobs import Job
from studio.ui.panels.train.budget_view import BudgetEstimate
from studio.ui.panels.train.gpus_view import GpuSettings
from studio.ui.panels.train.model_view import ModelChoice
from studio.ui.widgets.messages import ErrorLabel

PAGES = ("1  Task and data", "2  Model", "3  Settings", "4  Review")


class Wizard(QWidget):
    start_requested = Signal(object)  # a validated RunConfig

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("trainWizard")
        self.data_selection: dict[str, Any] = {}
        self.running = False  # a run is training: Start stays off whatever is typed
        self._estimate_job: Job | None = None
        self._estimate_timer = QTimer(self, singleShot=True, interval=300)
        self._estimate_timer.timeout.connect(self._estimate)
        self._pending: RunConfig | None = None
        self.pages = QStackedWidget(objectName="wizardPages")
        self.title = QLabel(objectName="wizardTitle")
        self.title.setStyleSheet("font-size: 15px; font-weight: 600;")
        for build in (self._task_page, self._model_page, self._settings_page, self._review_page):
            self.pages.addWidget(build())
        self.error = ErrorLabel("wizardError")
        self.back = QPushButton("Back", objectName="wizardBack", clicked=lambda: self.go(self.pages.currentIndex() - 1))
        self.next = QPushButton("Next", objectName="wizardNext", clicked=lambda: self.go(self.pages.currentIndex() + 1))
        self.start = QPushButton("Start Training", objectName="startButton", clicked=self._start)
        self.start.setToolTip("Start this run in the background (Ctrl+Shift+Return)")
        nav = QHBoxLayout()
        nav.addWidget(self.back)
        nav.addStretch(1)
        nav.addWidget(self.next)
        nav.addWidget(self.start)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.error)
        layout.addLayout(nav)
        self._task_changed()
        self.go(0)

    # ---- pages --------------------------------------------------------------------------------------
    def _task_page(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        self.task = QComboBox(objectName="wizardTask", toolTip="What the model learns; it decides the data columns, "
                                                               "the models and the metrics")
        for task in registry.all_tasks():
            self.task.addItem(task.title, task.name)
        self.task_help = QLabel(objectName="wizardTaskHelp", wordWrap=True)
        self.data = QLineEdit(objectName="wizardData", placeholderText="the task's built-in sample")
        self.data.setToolTip("A file, a folder or sample:NAME; the Data panel fills this in")
        self.data_note = QLabel(objectName="wizardDataNote", wordWrap=True)
        form.addRow("Task", self.task)
        form.addRow(self.task_help)
        form.addRow("Data", self.data)
        form.addRow(self.data_note)
        self.task.currentIndexChanged.connect(self._task_changed)
        self.data.textChanged.connect(self.validate)
        return page

    def _model_page(self) -> QWidget:
        self.model = ModelChoice()
        self.model.changed.connect(self.validate)
        return self.model

    def _settings_page(self) -> QWidget:
        page = QWidget()
        self.settings_form = form = QFormLayout(page)
        d = RunConfig()

        def spin(name: str, value: int, low: int, high: int, tip: str, step: int = 1) -> QSpinBox:
            box = QSpinBox(objectName=name, minimum=low, maximum=high, value=value, singleStep=step, toolTip=tip)
            box.valueChanged.connect(self.validate)
            return box

        self.length_mode = QComboBox(objectName="lengthMode", toolTip="Count steps, or give the minutes you have "
                                     "and let Studio time this machine and fit the steps to them")
        self.length_mode.addItem("Steps", "steps")
        self.length_mode.addItem("Minutes (a time budget)", "minutes")
        self.length_mode.currentIndexChanged.connect(self._length_changed)
        self.minutes = QDoubleSpinBox(objectName="budgetMinutes", decimals=1, minimum=0.5, maximum=run_config.MAX_MINUTES,
                                      singleStep=1.0, value=10.0, suffix=" min")
        self.minutes.setToolTip("Everything from the start to the saved model: Studio times a few steps when the run "
                                "starts and sets the steps, evaluations and checkpoints to end in time")
        self.minutes.valueChanged.connect(self.validate)
        self.budget_estimate = BudgetEstimate()
        self.max_steps = spin("maxSteps", d.max_steps, 1, 10_000_000, "Optimizer steps to train", 100)
        self.batch = spin("batchSize", d.batch_size, 0, 4096, "Sequences per step (lower it if memory runs out); "
                          "auto finds the largest that fits in the GPU's memory when the run starts")
        self.batch.setSpecialValueText("auto")
        self.grad_accum = spin("gradAccum", d.grad_accum, 1, 1024, "Steps of gradients summed per update")
        self.seq = spin("wizardSeqLen", d.seq_len, 8, 1024, "Tokens the model reads at once", 32)
        self.target_len = spin("wizardTargetLen", d.target_len, 4, 1024, "The longest target (summary) in tokens", 8)
        self.eval_every = spin("evalEvery", d.eval_every, 1, 10_000_000, "Steps between validation passes", 50)
        self.save_every = spin("saveEvery", d.save_every, 1, 10_000_000, "Steps between checkpoints", 50)
        self.early_stopping = spin("earlyStopping", d.early_stopping, 0, 1000, "Stop when the validation loss has "
                                   "not gone down for this many evaluations in a row; the saved model is then the "
                                   "best checkpoint, not the last. Checkpoints must fall on evaluations.")
        self.early_stopping.setSpecialValueText("Off")
        self.early_stopping.setSuffix(" evaluations")
        self.seed = spin("seed", d.seed, 0, 2**31 - 1, "Same seed, same data order and initial weights")
        self.lr = QDoubleSpinBox(objectName="learningRate", decimals=6, minimum=0.0, maximum=0.999999,
                                 singleStep=1e-4, value=d.lr, toolTip="Peak learning rate (cosine schedule)")
        self.lr.valueChanged.connect(self.validate)
        self.mlm_probability = QDoubleSpinBox(objectName="mlmProbability", decimals=2, minimum=0.01, maximum=0.99,
                                              singleStep=0.05, value=d.mlm_probability)
        self.mlm_probability.setToolTip("Share of tokens the model must predict: of those, 80% become the mask "
                                        "token, 10% a random token and 10% stay as they are (BERT's recipe)")
        self.mlm_probability.valueChanged.connect(self.validate)
        self.whole_word_mask = QCheckBox("Hide whole words", objectName="wholeWordMask")
        self.whole_word_mask.setToolTip("Choose whole words to predict, every piece of a word at once, instead of "
                                        "single sub-word pieces (harder, and closer to how words are used)")
        self.whole_word_mask.toggled.connect(self.validate)
        self.device = QComboBox(objectName="deviceCombo", toolTip="Where to train; auto takes a GPU when there is one")
        for name in ("auto", "cuda", "mps", "cpu"):
            self.device.addItem(name, name)
        self.precision = QComboBox(objectName="precisionCombo", toolTip="auto: bf16 or fp16 on a GPU, fp32 elsewhere")
        for name in ("auto", "bf16", "fp16", "fp32"):
            self.precision.addItem(name, name)
        for combo in (self.device, self.precision):
            combo.currentIndexChanged.connect(self.validate)
        self.checkpointing = QCheckBox("Recompute activations (gradient checkpointing)", objectName="gradCheckpointing")
        self.checkpointing.setToolTip("Keep only each layer's input during the forward pass and recompute the rest "
                                      "for the backward pass: much less memory for long sequences or big batches, "
                                      "about a third slower")
        self.checkpointing.toggled.connect(self.validate)
        self.gpus = GpuSettings()
        self.gpus.changed.connect(self.validate)
        self.probe = QLineEdit(objectName="probeText", placeholderText="optional, e.g. def add(a, b): return a + b")
        self.probe.setToolTip("At every evaluation, record where the model attends on this text (first 64 "
                              "tokens), so the Attention panel can show the heads forming step by step")
        self.probe.textChanged.connect(self.validate)
        for label, widget in (("Train for", self.length_mode), ("Budget", self.minutes),
                              ("", self.budget_estimate), ("Max steps", self.max_steps), ("Batch size", self.batch),
                              ("Gradient accumulation", self.grad_accum), ("Sequence length", self.seq),
                              ("Target length", self.target_len), ("Masked share", self.mlm_probability),
                              ("Whole words", self.whole_word_mask), ("Learning rate", self.lr),
                              ("Evaluate every", self.eval_every), ("Checkpoint every", self.save_every),
                              ("Early stopping", self.early_stopping),
                              ("Seed", self.seed), ("Device", self.device), ("Precision", self.precision),
                              ("Memory", self.checkpointing), ("GPUs to use", self.gpus),
                              ("Attention probe", self.probe)):
            form.addRow(label, widget)
        self.set_gpus(0)
        self._show_length_rows()
        return page

    def set_gpus(self, count: int) -> None:
        """The machine's CUDA GPUs (known once the engine has warmed up): the GPUs row shows for two or more."""
        self.gpus.set_available(count)
        self.settings_form.setRowVisible(self.gpus, count > 1)

    def _length_changed(self) -> None:
        self._show_length_rows()
        self.validate()

    def _show_length_rows(self) -> None:
        budgeted = self.length_mode.currentData() == "minutes"
        for widget in (self.minutes, self.budget_estimate):
            self.settings_form.setRowVisible(widget, budgeted)
        # the budget's plan sets the steps and intervals, and it decides when the run ends
        for widget in (self.max_steps, self.eval_every, self.save_every, self.early_stopping):
            self.settings_form.setRowVisible(widget, not budgeted)

    def _review_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(QLabel("The same run from a terminal:"))
        self.command = QPlainTextEdit(objectName="reviewCommand", readOnly=True)
        self.command.setMaximumHeight(110)
        self.review = QLabel(objectName="reviewSummary", wordWrap=True)
        save = QPushButton("Save Config…", objectName="saveConfigButton", clicked=self._save_config)
        save.setToolTip("Write these settings as a TOML file for `studio train --config`")
        layout.addWidget(self.command)
        layout.addWidget(self.review)
        layout.addWidget(save)
        layout.addStretch(1)
        return page

    # ---- behaviour ----------------------------------------------------------------------------------
    def current_task(self) -> Any:
        return registry.get(self.task.currentData())

    def _task_changed(self) -> None:
        task = self.current_task()
        self.task_help.setText(task.help)
        defaults = RunConfig.for_task(task.name)
        for field, box in (("max_steps", self.max_steps), ("eval_every", self.eval_every),
                           ("save_every", self.save_every)):  # the schedule its default run needs
            box.setValue(getattr(defaults, field))
        self.model.show_task(task)
        self.settings_form.labelForField(self.seq).setText(task.length_title)
        for name, widget in (("target_len", self.target_len), ("mlm_probability", self.mlm_probability),
                             ("whole_word_mask", self.whole_word_mask)):
            self.settings_form.setRowVisible(widget, name in task.settings)  # only the tasks that read them
        if task.target_title:
            self.settings_form.labelForField(self.target_len).setText(task.target_title)
        self.data.setPlaceholderText(task.default_data)
        self.validate()

    def refresh_runs(self) -> None:
        self.model.refresh_runs(self.current_task())

    def use_data(self, selection: dict[str, Any]) -> None:
        """Take the data, task, columns and tokenizer chosen in the Data panel."""
        self.data_selection = dict(selection)
        if selection.get("data"):
            self.data.setText(selection["data"])
        self.task.setCurrentIndex(max(0, self.task.findData(selection.get("task"))))
        self.seq.setValue(int(selection.get("seq_len", self.seq.value())))
        columns = [f"{c.title.lower()} '{selection[c.field]}'" for c in self.current_task().columns
                   if selection.get(c.field)]
        parts = columns + (["its own trained tokenizer"] if selection.get("tokenizer") else [])
        self.data_note.setText("From the Data panel: " + ", ".join(parts) if parts else "")
        self.validate()

    def config(self) -> RunConfig:
        sel = self.data_selection if self.data_selection.get("data") == self.data.text().strip() else {}
        task = self.current_task()
        values = {c.field: sel[c.field] for c in task.columns if sel.get(c.field)}
        values.update({k: sel[k] for k in ("validation_fraction", "vocab_size") if sel.get(k)})
        preset = self.model.preset_name()
        if sel.get("tokenizer") and preset and PRESETS[preset].family == sel.get("tokenizer_family"):
            values["tokenizer"] = sel["tokenizer"]
        return run_config.from_dict({
            **values, "task": task.name, "data": self.data.text().strip(), "model": self.model.name(),
            "max_steps": self.max_steps.value(), "batch_size": self.batch.value(),
            "minutes": self.minutes.value() if self.length_mode.currentData() == "minutes" else 0.0,
            "grad_accum": self.grad_accum.value(), "seq_len": self.seq.value(), "target_len": self.target_len.value(),
            "lr": self.lr.value(), "eval_every": self.eval_every.value(), "save_every": self.save_every.value(),
            "seed": self.seed.value(), "device": self.device.currentData(),
            "early_stopping": 0 if self.length_mode.currentData() == "minutes" else self.early_stopping.value(),
            "precision": self.precision.currentData(), "probe_text": self.probe.text(),
            "mlm_probability": self.mlm_probability.value(), "whole_word_mask": self.whole_word_mask.isChecked(),
            "gradient_checkpointing": self.checkpointing.isChecked(), **self.model.lora.values(), **self.gpus.values()})

    def validate(self, *_: Any) -> RunConfig | None:
        task = self.current_task()
        self.model.explain(task)
        try:
            checked = run_config.validate(self.config())
        except StudioError as exc:
            self.error.show_message(str(exc))
            self._set_ok(False)
            return None
        self.error.clear_message()
        self._set_ok(True)
        self.command.setPlainText(run_config.command_line(checked))
        length = (f"as many steps as fit in {checked.minutes:g} minutes" if checked.minutes
                  else f"{checked.max_steps:,} steps")
        rows = (f"{checked.batch_size * checked.grad_accum}" if checked.batch_size else
                "the largest batch that fits" + (f" × {checked.grad_accum}" if checked.grad_accum > 1 else ""))
        gpus = (f" on each of {checked.num_processes} GPUs" + (", the model sharded across them" if checked.fsdp
                                                                  else "") if checked.num_processes > 1 else "")
        self.review.setText(f"{task.title}: {checked.model} on {checked.data}, {length} of {rows} × {checked.seq_len} "
                            f"tokens{gpus}.")
        self._pending = checked
        self._estimate_timer.start()  # typing quickly asks for one estimate, not one per keystroke
        return checked

    def _set_ok(self, ok: bool) -> None:
        last = self.pages.currentIndex() == self.pages.count() - 1
        self.next.setEnabled(ok and not last)
        self.start.setEnabled(ok and not self.running)

    def set_running(self, running: bool) -> None:
        self.running = running
        self.validate()

    def _estimate(self) -> None:
        c = self._pending
        if c is None:
            return
        self.budget_estimate.show_for(c)
        if self._estimate_job is not None and self._estimate_job.running:
            self._estimate_timer.start()
            return

        def work(progress: Any, control: Any) -> Any:
            from studio.core.system import device as devices
            from studio.core.training.sizing import size_of

            device = devices.pick_device(c.device)
            chosen = devices.pick_precision(device, c.precision)
            return size_of(c, device, chosen), device, chosen

        job = Job(work, self)
        self._estimate_job = job
        job.done.connect(lambda r: job is self._estimate_job and self.model.estimate.setText(_size_text(*r)))
        job.failed.connect(lambda text: job is self._estimate_job and self.model.estimate.setText(text))
        job.start()

    def go(self, index: int) -> None:
        index = max(0, min(index, self.pages.count() - 1))
        self.pages.setCurrentIndex(index)
        self.title.setText(PAGES[index])
        self.back.setEnabled(index > 0)
        if index == 1:
            self.refresh_runs()
        self.validate()

    def _start(self) -> None:
        checked = self.validate()
        if checked is not None and not self.running:
            self.start_requested.emit(checked)

    def _save_config(self) -> None:
        checked = self.validate()
        if checked is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Save the run's settings", "run.toml", "TOML (*.toml)")
        if path:
            from studio.core.system.files import atomic_write_text

            atomic_write_text(Path(path), run_config.dumps(checked))


def _size_text(size: Any, device: str, precision: str) -> str:
    trained = ("" if size.trainable == size.parameters else
               f", of which {size.trainable / 1e6:.3f} M train ({size.trainable / size.parameters:.2%}, LoRA)")
    return (f"{size.parameters / 1e6:.2f} M parameters{trained}; about {size.training_bytes / 2**20:,.0f} MiB to "
            f"train on {device} ({precision}).")
