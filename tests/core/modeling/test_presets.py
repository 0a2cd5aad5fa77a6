"""Presets: special token ids, sizes before training, heads per task, a few steps of T5, and a Llama that
learns text and carries a chat template."""

from __future__ import annotations

import pytest

from studio.cli import main
from studio.core.data.tokenizer import train_bpe
from studio.core.modeling import presets
from studio.core.modeling.estimate import estimate
from studio.core.tasks import registry
from tests.helpers import TINY_LM, TINY_SUM, train_cli

TEXTS = ["def f(x):\n    return x\n" * 20, "Return the value of x.\n" * 20]


@pytest.mark.parametrize("task,name", [(t, n) for t in registry.all_tasks() for n in t.presets],
                         ids=lambda v: getattr(v, "name", v))
def test_every_preset_of_every_task_builds_with_consistent_ids_and_an_estimate(task, name):
    tokenizer = train_bpe(TEXTS, 300, family=presets.family(name))
    head = {"id2label": {0: "a", 1: "b"}, "label2id": {"a": 0, "b": 1}} if task.output == "labels" else {}
    config = presets.preset_config(name, tokenizer, **head)
    assert config.vocab_size == len(tokenizer) and config.pad_token_id == tokenizer.pad_token_id
    if config.is_encoder_decoder:
        assert config.decoder_start_token_id is not None and config.eos_token_id == tokenizer.eos_token_id
    size = estimate(config, task.auto_class, batch_size=8, seq_len=128)
    assert size.parameters > 100_000 and size.training_bytes > 16 * size.parameters
    if name.endswith("tiny"):
        built = presets.build(name, tokenizer, task.auto_class, **head)
        assert size.parameters == sum(p.numel() for p in built.parameters())
        assert task.accepts(built.config)


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


def test_llama_tiny_is_a_llama_that_learns_text_and_carries_chatml(ws, lm_text, tmp_path, capsys):
    out = tmp_path / "llama"
    args = [*TINY_LM, "--model", "llama-tiny"]
    args[args.index("--max-steps") + 1] = "16"
    assert train_cli(ws, out, lm_text, args) == 0
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(out / "model")
    config = model.config
    assert config.model_type == "llama" and config.num_key_value_heads < config.num_attention_heads
    assert config.hidden_act == "silu" and config.tie_word_embeddings
    tokenizer = AutoTokenizer.from_pretrained(out / "model")
    assert tokenizer.eos_token == "</s>" and len(tokenizer("<|im_end|>", add_special_tokens=False)["input_ids"]) == 1
    chat = tokenizer.apply_chat_template([{"role": "user", "content": "hi"}], tokenize=False, add_generation_prompt=True)
    assert chat == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
    from studio.core.runs import reader

    history = [r["eval_loss"] for r in reader.read(out).history if r.get("eval_loss") is not None]
    assert history[-1] < history[0]  # it learns, as gpt-tiny does
    assert main(["generate", "--model", str(out), "--prompt", "def ", "--max-new-tokens", "5", "--greedy"]) == 0
