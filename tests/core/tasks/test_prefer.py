"""Preference tuning: Studio's pairs are trl's own tokens and its DPO loss is trl's on the same models (Studio
only wires it); short DPO, ORPO and LoRA runs raise the preference accuracy on held-out pairs; a run from a
chat run records its lineage; bad input is a sentence and touches nothing."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path

import datasets
import pytest
import torch

from studio.cli import main
from studio.core.data.columns import map_columns
from studio.core.data.tokenizer import load_tokenizer
from studio.core.tasks import prefer, registry
from studio.core.tasks.base import TaskConfig
from studio.core.training.trainer import studio_trainer

TASK = prefer.TASK
FLAGS = {c.role: c.flag for c in registry.column_roles()}
# the answers share most of their words; the chosen one has one word of one kind, the rejected one of another:
# a signal a tiny model picks up over a few dozen steps, not at once
GOOD = ["yes", "sure", "gladly"]
BAD = ["no", "never", "cannot"]
SHARED = ["it", "this", "that", "the", "a", "an", "one", "item", "value", "list", "count", "number"]
TOPICS = ["len", "abs", "list", "dict", "tuple", "zip", "map", "sorted"]


def _answer(rng: random.Random, words: list[str], topic: str) -> list[dict[str, str]]:
    picked = rng.sample(SHARED, 4) + [rng.choice(words)]
    rng.shuffle(picked)
    return [{"role": "assistant", "content": " ".join(picked) + f" {topic}"}]


def pairs(n: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        topic = TOPICS[i % len(TOPICS)]
        prompt = [{"role": "user", "content": f"What does {topic} do?"}]
        if i % 3 == 0:
            prompt.insert(0, {"role": "system", "content": "Answer briefly."})
        rows.append({"prompt": prompt, "chosen": _answer(rng, GOOD, topic), "rejected": _answer(rng, BAD, topic)})
    return rows


@pytest.fixture(scope="module")
def pairs_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("prefer") / "pairs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in pairs(160)))
    return path


def _model(folder: Path):
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    return AutoModelForCausalLM.from_pretrained(folder)


def test_dpo_tokens_and_loss_are_trls_own(chat_model, tmp_path):
    from trl import DPOConfig, DPOTrainer

    rows = pairs(8)
    tok = load_tokenizer(chat_model)
    args = dict(per_device_train_batch_size=4, report_to="none", use_cpu=True, beta=0.1, disable_tqdm=True,
                activation_checkpointing=False)
    plain_model = _model(chat_model)
    plain = DPOTrainer(model=plain_model, ref_model=copy.deepcopy(plain_model), train_dataset=datasets.Dataset.from_list(rows),
                       processing_class=tok, args=DPOConfig(output_dir=str(tmp_path / "trl"), **args))

    ds = datasets.Dataset.from_list(rows)
    columns = map_columns(ds, TASK.columns, {}, FLAGS)
    ds, _ = TASK.inspect(ds, columns, FLAGS)
    config = TaskConfig(128, {"method": "dpo", "beta": 0.1, "chat_template": ""})
    encoded, stats = TASK.encode(ds, tok, columns, config, ordered=False)
    for mine, theirs in zip(encoded, plain.train_dataset, strict=True):
        assert {k: mine[k] for k in prefer.FEATURES} == {k: theirs[k] for k in prefer.FEATURES}
    assert stats["cut_pairs"] == 0 and stats["left_out_pairs"] == 0

    model = _model(chat_model)
    spec = TASK.trainer(model, config)
    studio = studio_trainer(spec.trainer)(model=model, train_dataset=encoded, processing_class=tok,
                                          data_collator=TASK.collator(tok, model, config),
                                          args=spec.arguments(output_dir=str(tmp_path / "studio"), **args), **spec.parts)
    batch = [encoded[i] for i in range(4)]
    theirs = plain.compute_loss(plain.model, plain.data_collator([plain.train_dataset[i] for i in range(4)]))
    mine = studio.compute_loss(studio.model, studio.data_collator(batch))
    torch.testing.assert_close(mine, theirs, rtol=1e-5, atol=1e-6)
    assert any(m["rewards/accuracies"] for m in studio._metrics.values())  # trl's rewards, which the monitor draws


def _history(run: Path, capsys) -> dict:
    capsys.readouterr()
    assert main(["runs", "show", str(run), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _accuracies(info: dict) -> list[float]:
    return [row["eval_rewards/accuracies"] for row in info["history"] if row.get("eval_rewards/accuracies") is not None]


def _scores(model: Path, data: Path, capsys) -> dict:
    capsys.readouterr()
    assert main(["evaluate", "--model", str(model), "--data", str(data), "--task", "prefer", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


# DPO in the quick suite; ORPO and LoRA learn through the same engine, with the slow tests
@pytest.mark.parametrize(("extra", "least", "held_out"), [
    (["--method", "dpo"], 0.65, "accuracy"),
    pytest.param(["--method", "orpo", "--lr", "3e-3"], 0.5, "margin", marks=pytest.mark.slow),
    pytest.param(["--lora", "--lr", "3e-3"], 0.65, "", marks=pytest.mark.slow)], ids=["dpo", "orpo", "dpo-lora"])
def test_a_short_run_raises_the_preference_accuracy(extra, least, held_out, chat_model, pairs_file, ws, tmp_path, capsys):
    """Each method's own rewards move apart on the validation pairs. On pairs it never saw, the DPO-tuned model
    prefers the chosen answer far more often than the starting model did, and the ORPO-tuned one by a wider
    margin (its 20 steps learn the answers too, and its preference more slowly). LoRA's 20 steps on a random
    base move its rewards, measured against the base, but not yet its own preferences: said, not tested."""
    unseen = _write(tmp_path / "held-out.jsonl", pairs(48, seed=9))
    before = _scores(chat_model, unseen, capsys)
    run = tmp_path / "run"
    assert main(["train", "--task", "prefer", "--model", str(chat_model), "--data", str(pairs_file), "--out", str(run),
                 "--max-steps", "20", "--eval-every", "5", "--save-every", "10", "--batch-size", "8", "--lr", "1e-3",
                 "--validation-fraction", "0.2", "--seq-len", "64", "--device", "cpu", *extra]) == 0
    info = _history(run, capsys)
    accuracies = _accuracies(info)
    margins = [row["eval_rewards/margins"] for row in info["history"] if row.get("eval_rewards/margins") is not None]
    assert len(accuracies) == 4 and accuracies[-1] > least and margins[-1] > margins[0] > 0, (accuracies, margins)
    assert {s["step"] for s in info["samples"]} == {5, 10, 15, 20}  # the chat answers, at every evaluation
    assert (run / "model" / "config.json").is_file()
    if "--lora" in extra:
        assert (run / "adapter" / "adapter_config.json").is_file()
    after = _scores(run, unseen, capsys)
    assert set(after) == {"accuracy", "logp_margin", "pairs"} and after["pairs"] == 48
    if held_out:
        assert after["logp_margin"] > before["logp_margin"] + 1.0, (before, after)
    if held_out == "accuracy":
        assert before["accuracy"] < 0.75 and after["accuracy"] >= max(0.75, before["accuracy"] + 0.25), (before, after)


def test_a_run_from_a_chat_run_records_its_lineage(chat_model, pairs_file, ws, tmp_path, capsys):
    chat_data = tmp_path / "chat.jsonl"
    chat_data.write_text("".join(json.dumps({"messages": r["prompt"] + r["chosen"]}) + "\n" for r in pairs(60)))
    sft, dpo = tmp_path / "sft", tmp_path / "dpo"
    common = ["--max-steps", "4", "--eval-every", "2", "--save-every", "2", "--batch-size", "8", "--seq-len", "64",
              "--device", "cpu"]
    assert main(["train", "--task", "chat", "--model", str(chat_model), "--data", str(chat_data), "--out", str(sft),
                 *common]) == 0
    assert main(["train", "--task", "prefer", "--model", str(sft), "--data", str(pairs_file), "--out", str(dpo),
                 *common]) == 0
    info = _history(dpo, capsys)
    assert info["base"]["run"] == "sft"
    assert [(link["run"], link["task"]) for link in info["lineage"]] == [("sft", "chat"), ("dpo", "prefer")]
    assert main(["runs", "show", str(dpo)]) == 0
    assert "lineage: sft (chat) → dpo (prefer)" in capsys.readouterr().out


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.mark.parametrize(("rows", "flags", "words"), [
    ([{"prompt": "Hi", "chosen": "Same", "rejected": "Same"}] * 20, [], "In every one of the 20 rows the chosen and"),
    ([{"question": "Hi", "answer": "Yes"}] * 20, [], "Which column holds the rejected answer?"),
    ([{"prompt": 5, "chosen": "A", "rejected": "B"}] * 20, [], "Column 'prompt' holds numbers, where answers are"),
    ([{"prompt": "Hi", "chosen": 1, "rejected": 0}] * 20, [], "Column 'chosen' holds numbers, where answers are "
                                                               "needed: text, or a list of"),
    ([{"prompt": "Hi", "chosen": [{"role": "assistant"}], "rejected": "B"}] * 20, [],
     'Row 1: message 1 has no "content" (it has "role")'),
    ([{"prompt": "word " * 80, "chosen": "A", "rejected": "B"}] * 20, ["--seq-len", "16"],
     "No pair's prompt leaves room for an answer in 16 tokens (the longest of them has"),
    (pairs(20), ["--method", "kto"], "argument --method: invalid choice: 'kto' (choose from 'dpo', 'orpo')"),
    (pairs(20), ["--beta", "0"], "--beta 0 is impossible; it must be above 0"),
])
def test_bad_input_is_a_sentence_and_leaves_nothing(rows, flags, words, chat_model, ws, tmp_path, capsys):
    out = tmp_path / "run"
    data = _write(tmp_path / "bad.jsonl", rows)
    try:
        code = main(["train", "--task", "prefer", "--model", str(chat_model), "--data", str(data), "--out", str(out),
                     "--device", "cpu", *flags])
    except SystemExit as exc:  # a flag's own choices are argparse's to refuse
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
    assert not out.exists()


def test_pairs_with_the_same_answers_are_counted_and_left_out(chat_model, ws, tmp_path, capsys):
    rows = pairs(40)
    for row in rows[:5]:
        row["rejected"] = row["chosen"]
    out = tmp_path / "run"
    assert main(["train", "--task", "prefer", "--model", str(chat_model), "--data", str(_write(tmp_path / "d.jsonl", rows)),
                 "--out", str(out), "--max-steps", "1", "--batch-size", "4", "--device", "cpu"]) == 0
    assert "5 of 40 pairs have the same chosen and rejected answer (the first is row 1)" in capsys.readouterr().err


def test_an_encoder_cannot_be_preference_tuned(cls_run, ws, tmp_path, capsys):
    data = _write(tmp_path / "d.jsonl", pairs(20))
    assert main(["train", "--task", "prefer", "--model", str(cls_run), "--data", str(data), "--out",
                 str(tmp_path / "run")]) == 2
    assert "cannot be trained for preference tuning" in capsys.readouterr().err


def test_a_stopped_dpo_run_resumes_to_the_model_trained_straight(chat_model, pairs_file, ws, tmp_path):
    """Resuming rebuilds the reference from the starting model, not from the checkpoint it resumes."""
    from safetensors.torch import load_file

    from studio.core.control import Control
    from studio.core.training import engine
    from studio.core.training.config import RunConfig, validate
    from studio.core.training.events import Metrics

    config = validate(RunConfig(task="prefer", model=str(chat_model), data=str(pairs_file), max_steps=8, eval_every=4,
                                save_every=4, log_every=1, batch_size=8, seq_len=64, lr=1e-3, device="cpu"))
    engine.train(config, root=ws, out=tmp_path / "straight")
    control = Control()

    def stop_after_three(event) -> None:
        if isinstance(event, Metrics) and event.step >= 3:
            control.stop()

    stopped = engine.train(config, root=ws, out=tmp_path / "stopped", listeners=[stop_after_three], control=control)
    assert stopped.status == "stopped" and stopped.global_step < 8
    assert engine.resume(tmp_path / "stopped", root=ws).status == "completed"
    straight = load_file(tmp_path / "straight" / "model" / "model.safetensors")
    resumed = load_file(tmp_path / "stopped" / "model" / "model.safetensors")
    for name, weights in straight.items():
        torch.testing.assert_close(resumed[name], weights, rtol=1e-4, atol=1e-6)


def test_a_classifier_cannot_be_preference_tuned(labelled_csv, ws, tmp_path, capsys):
    from tests.helpers import TINY_CLS, train_cli

    classifier = tmp_path / "gpt-classifier"
    assert train_cli(ws, classifier, labelled_csv, [*TINY_CLS, "--model", "gpt-tiny", "--max-steps", "2"]) == 0
    data = _write(tmp_path / "d.jsonl", pairs(20))
    capsys.readouterr()
    assert main(["train", "--task", "prefer", "--model", str(classifier), "--data", str(data), "--out",
                 str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "cannot be trained for preference tuning; choose --task classify" in err
    assert not (tmp_path / "run").exists()


def test_the_memory_estimate_counts_both_answers_and_dpos_reference():
    from studio.core.tasks import registry
    from studio.core.training.config import RunConfig, validate
    from studio.core.training.sizing import config_of, training_size

    def size(task: str, **options):
        c = validate(RunConfig(task=task, model="llama-tiny", options=options))
        return training_size(c, registry.get(task), config_of(c), c.batch_size, "fp32")

    chat_run, dpo, orpo = size("chat"), size("prefer"), size("prefer", method="orpo")
    assert dpo.weights_bytes == 2 * chat_run.weights_bytes  # the reference is a second copy
    assert orpo.weights_bytes == chat_run.weights_bytes
    # twice the sequences: the activations and logits (all of training but the weights and Adam) double
    assert orpo.training_bytes - orpo.weights_bytes - 12 * orpo.trainable == \
        2 * (chat_run.training_bytes - chat_run.weights_bytes - 12 * chat_run.trainable)


def test_a_preset_is_told_that_preference_tuning_does_not_teach_it_to_answer(chat_model):
    tok = load_tokenizer(chat_model)
    config = TaskConfig(64, {"method": "dpo", "beta": 0.1, "chat_template": ""})
    assert any("starts from random weights" in note for note in TASK.adapt_tokenizer(tok, config, "llama-tiny"))
    assert TASK.adapt_tokenizer(tok, config, str(chat_model)) == []
