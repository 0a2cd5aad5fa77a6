"""The causal-LM families people bring (Llama, Qwen2/3, Mistral, Gemma 1/3, Phi-3, GPT-NeoX, GPT-2), as
tiny random models from config: each loads for the Playground, generates, gives every layer's attention
to the Attention panel, and fine-tunes with LoRA on peft's default layers for its family."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoConfig, AutoModelForCausalLM

from studio.core.attention import extract
from studio.core.data.tokenizer import train_bpe
from studio.core.playground import generation, sampling
from studio.core.tasks import loaded as inference
from tests.helpers import train_cli

SIZE = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
            max_position_embeddings=256)
FAMILIES = {
    "llama": dict(SIZE, num_key_value_heads=2),
    "qwen2": dict(SIZE, num_key_value_heads=2),
    "qwen3": dict(SIZE, num_key_value_heads=2, head_dim=16),
    "mistral": dict(SIZE, num_key_value_heads=2),
    "gemma": dict(SIZE, num_key_value_heads=2, head_dim=16),
    "gemma3_text": dict(SIZE, num_key_value_heads=2, head_dim=16),
    "phi3": dict(SIZE, num_key_value_heads=2),
    "gpt_neox": dict(SIZE),
    "gpt2": dict(n_embd=64, n_layer=2, n_head=4, n_positions=256),
}


@pytest.fixture(scope="module")
def tokenizer():
    return train_bpe(["def add(a, b):\n    return a + b\n" * 50, "class A:\n    pass\n" * 50], 300, family="llama")


@pytest.mark.parametrize("family", list(FAMILIES))
def test_a_family_loads_generates_shows_attention_and_fine_tunes(family, tokenizer, ws, lm_text, tmp_path):
    ids = dict(bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
               pad_token_id=tokenizer.pad_token_id)
    config = AutoConfig.for_model(family, vocab_size=len(tokenizer), **FAMILIES[family], **ids)
    torch.manual_seed(0)
    folder = tmp_path / family
    AutoModelForCausalLM.from_config(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    loaded = inference.load(str(folder), attn_implementation="eager")
    assert loaded.task.name == ("chat" if tokenizer.chat_template else "lm")  # a template makes it a chat model
    written = generation.generate(loaded, "def ", sampling.Sampling.from_options({"greedy": True, "max_new_tokens": 4}))
    assert len(written.tokens) == 4
    attention = extract.extract(loaded, "def add(a, b):")
    layers, heads, rows, columns = attention.attentions.shape
    assert (layers, heads) == (2, 4) and rows == columns == len(attention.tokens)
    assert torch.allclose(torch.from_numpy(attention.attentions).sum(-1), torch.ones(layers, heads, rows), atol=1e-4)
    out = tmp_path / "tuned"
    assert train_cli(ws, out, lm_text, ["--model", str(folder), "--lora", "--seq-len", "32", "--batch-size", "4",
                                        "--max-steps", "2", "--eval-every", "2", "--save-every", "2",
                                        "--device", "cpu"]) == 0
    assert (out / "adapter" / "adapter_config.json").is_file() and (out / "model" / "config.json").is_file()
