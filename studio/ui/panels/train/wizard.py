"""The training wizard: task and data, model, settings, review. It validates as the person types and
shows the equivalent `studio train` command, so nothing in the window is out of reach of a script.

Tasks, their presets and what their models need come from the task registry.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from studio.core.errors import StudioError
from studio.core.modeling.presets import PRESETS
from studio.core.tasks import registry
from studio.core.training import config as run_config
from studio.core.training.config import RunConfig
from studio.ui.jobs import Latest
from studio.ui.panels.train.budget_view import BudgetEstimate
from studio.ui.panels.train.gpus_view import GpuSettings
from studio.ui.panels.train.model_view import ModelChoice
from studio.ui.widgets.messages import ErrorLabel, mark_warning
from studio.ui.widgets.setting_field import SettingField

PAGES = ("1  Task and data", "2  Model", "3  Settings", "4  Review")


class Wizard(QWidget):
    start_requested = Signal(object)  # a validated RunConfig

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("trainWizard")
        self.data_selection: dict[str, Any] = {}
        self.running = False  # a run is training: Start stays off whatever is typed
        self._estimates = Latest(self)
        self._estimate_timer = QTimer(self, singleShot=True, interval=300)
        self._estimate_timer.timeout.connect(self._estimate)
        self._pending: RunConfig | None = None
        self.fields: dict[str, SettingField] = {}
        self.pages = QStackedWidget(objectName="wizardPages")
        self.title = QLabel(objectName="wizardTitle")
        self.title.setStyleSheet("font-size: 15px; font-weight: 600;")
        for build in (self._task_page, self._model_page, self._settings_page, self._review_page):
            self.pages.addWidget(build())
        self.error = ErrorLabel("wizardError")
        self.back = QPushButton("Back", objectName="wizardBack", clicked=lambda: self.go(self.pages.currentIndex() - 1))
        self.next = QPushButton("Next", objectName="wizardNext", clicked=lambda: self.go(self.pages.currentIndex() + 1))
        self.start = QPushButton("Start Training", objectName="startButton", clicked=self.request_start)
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
        for label, widget in (("Train for", self.length_mode), ("Budget", self.minutes), ("", self.budget_estimate)):
            form.addRow(label, widget)
        # every titled setting has a row, in the order it is declared; a task's own follow the length they refine
        self._common = [s for s in run_config.COMMON if s.title]
        self._task_fields = [s for s, _ in registry.task_settings() if s.title]
        for setting in self._common:
            self._add_field(setting)
            if setting.name == "seq_len":
                for own in self._task_fields:
                    self._add_field(own)
        self.device = QComboBox(objectName="deviceCombo", toolTip="Where to train; auto takes a GPU when there is one")
        for name in ("auto", "cuda", "mps", "cpu"):
            self.device.addItem(name, name)
        self.device.currentIndexChanged.connect(self.validate)
        self.gpus = GpuSettings()
        self.gpus.changed.connect(self.validate)
        form.addRow("Device", self.device)
        form.addRow("GPUs to use", self.gpus)
        self.set_gpus(0)
        self._show_length_rows()
        return page

    def _add_field(self, setting: Any) -> None:
        field = SettingField(setting, self)
        field.changed.connect(self.validate)
        self.fields[setting.name] = field
        self.settings_form.addRow("" if setting.kind == "bool" else setting.title, field.widget)

    def field(self, name: str) -> SettingField:
        """The editor of the setting `name` (a RunConfig field or a task's own)."""
        return self.fields[name]

    def set_values(self, **values: Any) -> None:
        """Type settings into the form, by their names: set_values(max_steps=30, batch_size=8)."""
        for name, value in values.items():
            self.fields[name].set_value(value)

    def shows(self, name: str) -> bool:
        """Whether the setting's row is on the page (a task's own show for that task; the schedule hides
        under a time budget)."""
        return self.settings_form.isRowVisible(self.fields[name].widget)

    def set_gpus(self, count: int) -> None:
        """The machine's CUDA GPUs (known once the engine has warmed up): the GPUs row shows for two or more."""
        self.gpus.set_available(count)
        self.settings_form.setRowVisible(self.gpus, count > 1)

    def _length_changed(self) -> None:
        self._show_length_rows()
        self.validate()

    def _show_length_rows(self) -> None:
        budgeted = self.length_mode.currentData() == "minutes"
        self.settings_form.setRowVisible(self.minutes, budgeted)
        # the budget's plan sets the steps and intervals, and it decides when the run ends
        for name in ("max_steps", "eval_every", "save_every", "early_stopping"):
            self.settings_form.setRowVisible(self.fields[name].widget, not budgeted)

    def _review_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(QLabel("The same run from a terminal:"))
        self.command = QPlainTextEdit(objectName="reviewCommand", readOnly=True)
        self.command.setMaximumHeight(110)
        self.review = QLabel(objectName="reviewSummary", wordWrap=True)
        # how long it will take, from the same quick timing the settings page shows
        self.review_time = QLabel(objectName="reviewTime", wordWrap=True)
        self.budget_estimate.said.connect(self._show_review_time)
        save = QPushButton("Save Config…", objectName="saveConfigButton", clicked=self._save_config)
        save.setToolTip("Write these settings as a TOML file for `studio train --config`")
        layout.addWidget(self.command)
        layout.addWidget(self.review)
        layout.addWidget(self.review_time)
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
        # every setting starts from the new task's defaults: a chat's learning rate carried into preference tuning,
        # beside steps that had reset, made a run nobody chose
        self.set_values(**{s.name: defaults.get(s.name) for s in self._common})
        own = {s.name: s for s in task.settings}
        for setting in self._task_fields:  # only the tasks that read them, at their defaults
            self.settings_form.setRowVisible(self.fields[setting.name].widget, setting.name in own)
            if setting.name in own:
                self.fields[setting.name].set_value(own[setting.name].default)
        # prompts answered at each evaluation: for a task whose models write text
        self.settings_form.setRowVisible(self.fields["sample_prompts"].widget, task.writes_text)
        self.model.show_task(task)
        self.settings_form.labelForField(self.fields["seq_len"].widget).setText(task.length_title)
        self.data.setPlaceholderText(task.default_data)
        self.validate()

    def refresh_runs(self) -> None:
        self.model.refresh_runs(self.current_task())

    def use_model(self, repo_id: str, task: str | None) -> None:
        """The model page with the hub model `repo_id` chosen; for `task` when one is given."""
        if task is not None:
            self.task.setCurrentIndex(max(0, self.task.findData(task)))
        self.model.use_hub(repo_id)
        self.go(1)

    def use_data(self, selection: dict[str, Any]) -> None:
        """Take the data, task, columns and tokenizer chosen in the Data panel."""
        self.data_selection = dict(selection)
        if selection.get("data"):
            self.data.setText(selection["data"])
        self.task.setCurrentIndex(max(0, self.task.findData(selection.get("task"))))
        if selection.get("seq_len"):
            self.set_values(seq_len=int(selection["seq_len"]))
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
        typed = {s.name: self.fields[s.name].value() for s in (*self._common, *task.settings) if s.title}
        budgeted = self.length_mode.currentData() == "minutes"
        if budgeted:
            typed["early_stopping"] = 0  # the budget's plan decides when the run ends
        if not task.writes_text:
            typed["sample_prompts"] = ""  # its row is hidden: what it held belongs to another task
        return run_config.from_dict({
            **values, **typed, "task": task.name, "data": self.data.text().strip(), "model": self.model.name(),
            "minutes": self.minutes.value() if budgeted else 0.0, "device": self.device.currentData(),
            **self.model.lora.values(), **self.gpus.values()})

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
        # a greyed-out button says why
        self.start.setToolTip("A run is training; one trains at a time. Watch or stop it in Monitor." if self.running
                              else "Start this run in the background (Ctrl+Shift+Return)" if ok else
                              "Fix what the wizard shows in red first, then start.")

    def _show_review_time(self, text: str, long: bool) -> None:
        self.review_time.setText(text)
        mark_warning(self.review_time, long)

    def set_running(self, running: bool) -> None:
        self.running = running
        self.validate()

    def _estimate(self) -> None:
        c = self._pending
        if c is None:
            return
        if self.pages.currentIndex() >= 2:  # timing this machine is for the pages that show it
            self.budget_estimate.show_for(c)
        if self._estimates.running:
            self._estimate_timer.start()
            return

        def work(progress: Any, control: Any) -> Any:
            from studio.core.training import fit, sizing

            return fit.check(sizing.config_of(c), c)

        self._estimates.start(work, done=self._show_fit, failed=self.model.estimate.setText)

    def _show_fit(self, found: Any) -> None:
        self.model.estimate.setText(found.summary())
        mark_warning(self.model.estimate, not found.trains)

    def go(self, index: int) -> None:
        index = max(0, min(index, self.pages.count() - 1))
        self.pages.setCurrentIndex(index)
        self.title.setText(PAGES[index])
        self.back.setEnabled(index > 0)
        if index == 1:
            self.refresh_runs()
        self.validate()

    def request_start(self) -> None:
        """Start the run the form describes, when it is valid and no run is training (Start, Ctrl+Shift+Return)."""
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

