"""LoRA runs: few weights train, model/ is the base plus the adapter merged, adapter/ applies to the base,
the head of a new task trains whole, resume continues, and the Playground loads an adapter unmerged."""

from __future__ import annotations

import json

import pytest
import torch

from studio.cli import main
from studio.core.errors import ConfigError
from studio.core.modeling import lora
from studio.core.tasks.loaded import load
from tests.helpers import TINY_CLS, TINY_LM, train_cli

LORA = ["--lora", "--lora-r", "4", "--lora-alpha", "8"]


def _lm_args(base, steps: int) -> list[str]:
    args = [a for a in TINY_LM]
    args[args.index("--max-steps") + 1] = str(steps)
    args[args.index("--save-every") + 1] = "2"
    args[args.index("--eval-every") + 1] = "2"
    return args + ["--model", str(base), *LORA]


def _show(capsys, run) -> dict:
    capsys.readouterr()
    assert main(["runs", "show", str(run), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture(scope="module")
def lora_run(workspace_dir, lm_run, lm_text, tmp_path_factory):
    out = tmp_path_factory.mktemp("lora") / "run"
    assert train_cli(workspace_dir, out, lm_text, _lm_args(lm_run, 4)) == 0
    return out


def test_few_parameters_train_and_the_exports_are_base_plus_adapter(lora_run, lm_run, capsys):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    info = _show(capsys, lora_run)
    assert 0 < info["trainable_parameters"] < 0.1 * info["parameters"]
    assert info["adapter_dir"] and (lora_run / "adapter" / "adapter_config.json").is_file()
    base_dir = lm_run / "model"
    assert lora.adapter_base(lora_run / "adapter") == str(base_dir)
    merged = AutoModelForCausalLM.from_pretrained(lora_run / "model").eval()  # plain transformers, no peft
    base = AutoModelForCausalLM.from_pretrained(base_dir).eval()
    ids = torch.tensor([[5, 17, 42, 7, 99, 3]])
    with torch.inference_mode():
        before = base(ids).logits
        adapted = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base_dir), lora_run / "adapter").eval()
        assert torch.allclose(merged(ids).logits, adapted(ids).logits, atol=1e-4)
    assert not torch.allclose(merged(ids).logits, before, atol=1e-4)  # the adapter learned something


def test_the_playground_loads_the_adapter_unmerged_and_it_answers_as_the_merged_model(lora_run):
    from peft import PeftModel

    from studio.core.playground.generation import generate
    from studio.core.playground.sampling import Sampling

    adapter = load(str(lora_run / "adapter"))
    merged = load(str(lora_run))
    assert isinstance(adapter.model, PeftModel) and not isinstance(merged.model, PeftModel)
    greedy = Sampling(greedy=True, max_new_tokens=8)
    assert generate(adapter, "def ", greedy).text == generate(merged, "def ", greedy).text


def test_resume_continues_the_adapter(lora_run, workspace_dir, capsys):
    assert main(["--workspace", str(workspace_dir), "train", "--resume", str(lora_run), "--max-steps", "6"]) == 0
    info = _show(capsys, lora_run)
    assert info["global_step"] == 6 and [c["step"] for c in info["checkpoints"]][-1] == 6
    assert [r["step"] for r in info["history"] if "eval_loss" in r] == [2, 4, 6]  # each evaluation once, in order
    assert info["trainable_parameters"] < 0.1 * info["parameters"]


def test_a_new_classification_head_trains_whole_under_lora(mlm_run):
    from transformers import AutoModelForSequenceClassification

    from studio.core.modeling.loading import load_pretrained

    model, fresh = load_pretrained(str(mlm_run / "model"), "AutoModelForSequenceClassification", num_labels=3)
    assert isinstance(model, AutoModelForSequenceClassification._model_mapping[type(model.config)])
    wrapped = lora.wrap(model, r=4, alpha=8, dropout=0.0, target_text="", task_type="SEQ_CLS", fresh=fresh)
    trainable = {n for n, p in wrapped.named_parameters() if p.requires_grad}
    assert any("classifier" in n for n in trainable) and any("lora_A" in n for n in trainable)
    assert not any("word_embeddings" in n or n.endswith("query.base_layer.weight") for n in trainable)


@pytest.mark.slow
def test_lora_from_a_pretrained_encoder_learns_a_new_classification_head(workspace_dir, mlm_run, labelled_csv,
                                                                        tmp_path, capsys):
    out = tmp_path / "cls-lora"
    args = [a if a != "bert-tiny" else str(mlm_run) for a in TINY_CLS]
    args[args.index("--max-steps") + 1] = "120"  # adapters on a barely pretrained encoder learn slower than full
    args[args.index("--eval-every") + 1] = "60"
    assert train_cli(workspace_dir, out, labelled_csv, args + ["--lora", "--lora-targets", "all-linear",
                                                               "--lr", "5e-3"]) == 0
    info = _show(capsys, out)
    assert info["trainable_parameters"] < 0.2 * info["parameters"]
    assert info["last"]["eval_accuracy"] > 0.45  # three classes: 0.33 is chance (measured: 0.60)
    from studio.core.playground.classification import classify

    text = "open read write path"
    merged = classify(load(str(out)), text)
    for adapted in (out / "adapter", out / "checkpoints" / "checkpoint-120"):  # the base with its adapter and head
        answer = classify(load(str(adapted)), text)
        assert answer.label == merged.label and abs(answer.score - merged.score) < 1e-4


def test_a_family_peft_does_not_know_asks_for_targets_by_name():
    from transformers import DistilBertConfig, DistilBertForMaskedLM

    model = DistilBertForMaskedLM(DistilBertConfig(vocab_size=100, dim=32, n_layers=1, n_heads=2, hidden_dim=64))
    with pytest.raises(ConfigError, match="name them with --lora-targets, from its linear layers: .*q_lin"):
        lora.wrap(model, r=4, alpha=8, dropout=0.0, target_text="", task_type=None)
    wrapped = lora.wrap(model, r=4, alpha=8, dropout=0.0, target_text="q_lin,v_lin", task_type=None)
    assert lora.parameter_counts(wrapped)[1] == 1 * 2 * (4 * 32 + 32 * 4)
