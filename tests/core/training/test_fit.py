"""Will it fit: memory to run and to train from a config alone, against what the device has, and the cheapest
setting that makes training fit when it does not."""

from __future__ import annotations

import dataclasses

import pytest

from studio.core.errors import ModelError
from studio.core.system import device as devices
from studio.core.training import fit
from studio.core.training.config import RunConfig

LLAMA = {"model_type": "llama", "hidden_size": 256, "intermediate_size": 688, "num_hidden_layers": 4,
         "num_attention_heads": 4, "vocab_size": 8000, "architectures": ["LlamaForCausalLM"]}


def test_a_model_that_fits_says_its_size_and_memory():
    found, task = fit.of_config_json(LLAMA, "me/llama")
    assert task == "lm"  # what its architecture is for
    assert found.trains and found.runs and found.advice == ""
    assert 4_000_000 < found.parameters < 8_000_000
    assert found.parameters * (2 if found.precision in ("bf16", "fp16") else 4) < found.run_bytes < found.train_bytes
    assert set(found.as_json()) == {"run_bytes", "train_bytes", "device"}
    assert found.as_json()["device"] == devices.describe(devices.pick_device("auto"))
    assert "M parameters" in found.summary()


def test_training_that_does_not_fit_names_the_cheapest_setting_that_would(monkeypatch):
    found, _ = fit.of_config_json(LLAMA, "me/llama", "chat")
    # a device just large enough for training with LoRA, not without
    lora = fit.of_config_json(LLAMA, "me/llama", "chat",
                              dataclasses.replace(RunConfig.for_task("chat"), lora=True))[0]
    monkeypatch.setattr(devices, "memory_total", lambda device: int((lora.train_bytes + found.train_bytes) / 2 / 0.9))
    tight, _ = fit.of_config_json(LLAMA, "me/llama", "chat")
    assert not tight.trains and tight.remedied
    assert "more than" in tight.advice and "(--" in tight.advice and "it needs about" in tight.advice
    assert tight.advice in tight.summary()
    # a device too small for anything: said plainly
    monkeypatch.setattr(devices, "memory_total", lambda device: 2**20)
    hopeless, _ = fit.of_config_json(LLAMA, "me/llama", "chat")
    assert not hopeless.runs and not hopeless.remedied and "even with" in hopeless.advice
    assert "does not fit here even to run" in hopeless.summary()


def test_a_config_transformers_does_not_know_is_a_sentence():
    with pytest.raises(ModelError, match="'martian' model"):
        fit.of_config_json({"model_type": "martian"}, "me/odd")
