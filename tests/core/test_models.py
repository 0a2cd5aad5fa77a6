"""Presets: special token ids, sizes before training, and a few steps of the encoder-decoder kinds."""

from __future__ import annotations

import pytest

from studio.cli import main
from studio.core.modeling import models
from studio.core.data.tokenizer import train_bpe
from tests.core.conftest import TINY_SUM, train_cli


@pytest.fixture(scope="module")
def tokenizer():
    return train_bpe(["def f(x):\n    return x\n" * 20, "Return the value of x.\n" * 20], 300)


@pytest.mark.parametrize("name", list(models.PRESETS))
def test_presets_have_consistent_special_ids_and_an_estimate(name, tokenizer):
    config = models.preset_config(name, tokenizer)
    assert config.vocab_size == len(tokenizer)
    assert (config.eos_token_id, config.pad_token_id) == (tokenizer.eos_token_id, tokenizer.pad_token_id)
    if config.is_encoder_decoder:
        assert config.decoder_start_token_id is not None
    size = models.estimate(config, models.PRESETS[name].task, batch_size=8, seq_len=128)
    assert size.parameters > 100_000 and size.training_bytes > 16 * size.parameters


def test_estimate_counts_exactly_what_is_built(tokenizer):
    config = models.preset_config("gpt-tiny", tokenizer)
    built = models.build_preset("gpt-tiny", tokenizer)
    assert models.estimate(config, "lm", 4, 32).parameters == sum(p.numel() for p in built.parameters())
    assert built.generation_config.pad_token_id == tokenizer.pad_token_id


def test_t5_tiny_trains_and_summarizes(ws, pairs_jsonl, tmp_path, capsys):
    out = tmp_path / "t5"
    args = [a if a != "bart-tiny" else "t5-tiny" for a in TINY_SUM]
    args[args.index("--max-steps") + 1] = "4"
    assert train_cli(ws, out, pairs_jsonl, args) == 0
    assert main(["summarize", "--model", str(out), "--text", "def f(x):\n    return x", "--max-new-tokens", "5"]) == 0


def test_a_model_folder_fine_tunes_with_its_own_tokenizer(ws, lm_run, lm_text, tmp_path, capsys):
    out = tmp_path / "finetune"
    assert train_cli(ws, out, lm_text, ["--model", str(lm_run / "model"), "--seq-len", "32", "--batch-size", "4",
                                        "--max-steps", "2", "--eval-every", "2", "--save-every", "2",
                                        "--device", "cpu"]) == 0
    assert (out / "tokenizer" / "tokenizer.json").read_text() == (lm_run / "model" / "tokenizer.json").read_text()
