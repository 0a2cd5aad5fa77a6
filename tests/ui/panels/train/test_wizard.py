"""The wizard's settings page: "GPUs to use" appears only with several GPUs; early stopping; sample prompts for
the tasks whose models write text; each writes its flag."""

from __future__ import annotations

from studio.core.training.config import command_line


def test_gpus_row_shows_for_several_gpus_and_sets_processes(window):
    wizard = window.train_panel.wizard
    wizard.go(2)
    window.set_device("cuda (Test GPU), 80 GiB", 0)
    assert not wizard.settings_form.isRowVisible(wizard.gpus)
    assert wizard.validate().num_processes == 1
    window.set_device("cuda (Test GPU), 80 GiB (and 3 more)", 4)
    assert wizard.settings_form.isRowVisible(wizard.gpus) and wizard.gpus.count.maximum() == 4
    assert not wizard.gpus.shard.isEnabled()  # nothing to shard across one GPU
    wizard.gpus.count.setValue(2)
    wizard.gpus.shard.setChecked(True)
    config = wizard.validate()
    assert (config.num_processes, config.fsdp) == (2, True)
    assert "--num-processes 2 --fsdp" in command_line(config)
    assert "on each of 2 GPUs, the model sharded across them" in wizard.review.text()
    wizard.gpus.count.setValue(1)
    assert not wizard.gpus.shard.isChecked() and "--fsdp" not in command_line(wizard.validate())


def test_early_stopping_in_the_wizard(window):
    wizard = window.train_panel.wizard
    wizard.go(2)
    assert wizard.field("early_stopping").widget.text() == "Off" and wizard.validate().early_stopping == 0
    wizard.set_values(eval_every=100, save_every=150, early_stopping=3)
    assert wizard.validate() is None and "multiple of --eval-every" in wizard.error.text()
    wizard.set_values(save_every=200)
    assert "--early-stopping 3" in command_line(wizard.validate())


def test_sample_prompts_are_offered_to_tasks_whose_models_write_text(window, tmp_path):
    wizard = window.train_panel.wizard
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("def add(a, b):\n", encoding="utf-8")
    wizard.task.setCurrentIndex(wizard.task.findData("lm"))
    wizard.go(2)
    assert wizard.shows("sample_prompts")
    wizard.set_values(sample_prompts=str(prompts))
    assert wizard.config().sample_prompts == str(prompts)
    assert "--sample-prompts" in command_line(wizard.config())
    wizard.task.setCurrentIndex(wizard.task.findData("classify"))
    assert not wizard.shows("sample_prompts") and wizard.config().sample_prompts == ""


def test_a_file_setting_is_typed_or_chosen(window, tmp_path, monkeypatch):
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QFileDialog

    wizard = window.train_panel.wizard
    chosen = tmp_path / "prompts.txt"
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args, **kw: (str(chosen), ""))
    box = wizard.field("sample_prompts").widget
    box.findChild(QAction, "samplePromptsBrowse").trigger()
    assert box.text() == str(chosen) and wizard.field("sample_prompts").value() == str(chosen)


def test_the_model_page_takes_a_gguf_file_or_a_folder_by_its_config(window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog, QPushButton

    wizard = window.train_panel.wizard
    page = wizard.model
    for chosen, expected in ((tmp_path / "SmolLM2.Q4_1.gguf", str(tmp_path / "SmolLM2.Q4_1.gguf")),
                             (tmp_path / "folder" / "config.json", str(tmp_path / "folder"))):
        monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args, c=chosen, **kw: (str(c), ""))
        page.findChild(QPushButton, "modelBrowse").click()
        assert page.kind_local.isChecked() and page.local.text() == expected
        assert wizard.config().model == expected


def test_start_greyed_out_says_why(window):
    wizard = window.train_panel.wizard
    wizard.go(wizard.pages.count() - 1)
    assert wizard.validate() is not None and wizard.start.isEnabled()
    wizard.set_running(True)
    assert not wizard.start.isEnabled() and "A run is training" in wizard.start.toolTip()
    wizard.set_running(False)
    wizard.set_values(eval_every=100, save_every=150, early_stopping=3)
    assert not wizard.start.isEnabled() and "in red" in wizard.start.toolTip()


def test_changing_the_task_brings_its_own_defaults_not_the_last_tasks_settings(window):
    from studio.core.training.config import RunConfig

    wizard = window.train_panel.wizard
    wizard.task.setCurrentIndex(wizard.task.findData("chat"))
    wizard.set_values(lr=2e-3, batch_size=4, seq_len=512)
    wizard.task.setCurrentIndex(wizard.task.findData("prefer"))
    config, defaults = wizard.config(), RunConfig.for_task("prefer")
    assert (config.lr, config.batch_size, config.seq_len, config.max_steps) == (
        defaults.lr, defaults.batch_size, defaults.seq_len, defaults.max_steps)


def test_a_model_folder_with_lora_gets_a_duration_before_the_start(window, qtbot, chat_model):
    from tests.ui.helpers import TIMEOUT

    wizard = window.train_panel.wizard
    wizard.task.setCurrentIndex(wizard.task.findData("chat"))
    wizard.model.local.setText(str(chat_model))
    wizard.model._choose(wizard.model.kind_local)
    wizard.model.lora.enabled.setChecked(True)
    wizard.set_values(max_steps=40, seq_len=32, batch_size=2)
    wizard.go(2)
    qtbot.waitUntil(lambda: wizard.budget_estimate.text().startswith("About "), timeout=TIMEOUT)
    assert "for 40 steps (timed here: a step" in wizard.budget_estimate.text()
