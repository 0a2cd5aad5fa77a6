"""The wizard offers LoRA for a model that has learned, shows how much of it trains, and writes the flags."""

from __future__ import annotations

from studio.core.training.config import command_line
from tests.ui.helpers import TIMEOUT, listed


def test_wizard_offers_lora_for_a_trained_model_and_shows_what_trains(window, qtbot, lm_run, monkeypatch,
                                                                       workspace_dir):
    monkeypatch.setenv("STUDIO_WORKSPACE", str(workspace_dir))
    wizard = window.train_panel.wizard
    wizard.go(1)
    # a preset has random weights: nothing to adapt
    assert wizard.model.kind_preset.isChecked() and not wizard.model.lora.enabled.isEnabled()
    wizard.refresh_runs()
    listed(qtbot, wizard.model)
    wizard.model.run.setCurrentIndex(wizard.model.run.findData(str(lm_run)))
    wizard.model.kind_run.setChecked(True)
    assert wizard.model.lora.enabled.isEnabled()
    wizard.model.lora.enabled.setChecked(True)
    wizard.model.lora.rank.setValue(4)
    config = wizard.validate()
    assert config.lora and config.lora_r == 4 and "--lora --lora-r 4" in command_line(config)
    qtbot.waitUntil(lambda: "LoRA" in wizard.model.estimate.text(), timeout=TIMEOUT)
    assert "M parameters, of which" in wizard.model.estimate.text()
    wizard.model.lora.targets.setText("q_proj")
    assert wizard.validate() is not None  # layer names are checked against the model when the run starts
    wizard.model.kind_preset.setChecked(True)
    assert not wizard.model.lora.enabled.isChecked() and "--lora" not in command_line(wizard.validate())


def test_the_wizard_says_when_training_would_not_fit_and_what_would_make_it(window, qtbot, monkeypatch):
    from studio.core.system import device as devices
    from studio.ui.widgets.messages import WARNING_STYLE

    wizard = window.train_panel.wizard
    wizard.go(1)
    qtbot.waitUntil(lambda: "to train" in wizard.model.estimate.text(), timeout=TIMEOUT)
    assert wizard.model.estimate.styleSheet() == ""
    monkeypatch.setattr(devices, "memory_total", lambda device: 2**20)  # a device of 1 MB
    wizard.model.preset.setCurrentIndex(wizard.model.preset.count() - 1)
    qtbot.waitUntil(lambda: "does not fit here" in wizard.model.estimate.text(), timeout=TIMEOUT)
    assert "which has 1.0 MB" in wizard.model.estimate.text() and wizard.model.estimate.styleSheet() == WARNING_STYLE
