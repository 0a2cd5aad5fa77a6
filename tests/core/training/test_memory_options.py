"""Gradient checkpointing trades time for memory without changing what is learned; the estimate follows it,
and LoRA's frozen weights and QLoRA's 4-bit base."""

from __future__ import annotations

import json

from studio.cli import main
from studio.core.modeling import presets
from studio.core.modeling.estimate import estimate
from tests.helpers import TINY_LM, train_cli


def _losses(capsys, run) -> list[float]:
    capsys.readouterr()
    assert main(["runs", "show", str(run), "--json"]) == 0
    return [r["train_loss"] for r in json.loads(capsys.readouterr().out)["history"] if "train_loss" in r]


def test_checkpointing_learns_the_same_losses(ws, lm_text, tmp_path, capsys):
    args = [a for a in TINY_LM]
    args[args.index("--max-steps") + 1] = "11"  # losses are logged at steps 1 and 10
    plain, recomputed = tmp_path / "plain", tmp_path / "recomputed"
    assert train_cli(ws, plain, lm_text, args) == 0
    assert train_cli(ws, recomputed, lm_text, args + ["--gradient-checkpointing"]) == 0
    a, b = _losses(capsys, plain), _losses(capsys, recomputed)
    assert len(a) == len(b) >= 2 and all(abs(x - y) < 1e-4 for x, y in zip(a, b, strict=True))
    assert "gradient_checkpointing = true" in (recomputed / "config.toml").read_text()


def test_the_estimate_shrinks_with_checkpointing():
    config = presets.sized_config("gpt-small", 8000)
    full = estimate(config, "AutoModelForCausalLM", 16, 512)
    saved = estimate(config, "AutoModelForCausalLM", 16, 512, checkpointing=True)
    assert saved.parameters == full.parameters and saved.training_bytes < 0.7 * full.training_bytes


def test_the_estimate_counts_only_the_adapters_as_learning_and_a_4_bit_base_as_small():
    config = presets.sized_config("gpt-small", 8000)
    adapters = {"r": 8, "alpha": 16, "dropout": 0.0, "target_text": "", "task_type": "CAUSAL_LM"}
    full = estimate(config, "AutoModelForCausalLM", 1, 64)
    lora = estimate(config, "AutoModelForCausalLM", 1, 64, adapters=adapters)
    qlora = estimate(config, "AutoModelForCausalLM", 1, 64, adapters=adapters, quantized=True)
    assert full.trainable == full.parameters and 0 < lora.trainable < 0.05 * lora.parameters
    assert qlora.training_bytes < lora.training_bytes < 0.5 * full.training_bytes
    assert qlora.weights_bytes < 0.2 * lora.weights_bytes
