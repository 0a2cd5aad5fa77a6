"""Masked-LM pretraining: blocks framed by the BERT template, masked accuracy, whole-word masking,
fill-mask equal to plain transformers, and a pretrain-then-fine-tune chain that really starts from the
pretrained weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import BertForPreTraining, pipeline

from studio.core.data import sources
from studio.core.data.tokenizer import train_bpe
from studio.core.errors import ConfigError, ModelError
from studio.core.playground.fill_mask import fill
from studio.core.runs import layout, reader
from studio.core.system import workspace
from studio.core.tasks import registry
from studio.core.tasks.lm import blocks_of
from studio.core.tasks.loaded import load
from studio.core.tasks.mlm import masking
from studio.core.training.config import RunConfig, validate
from studio.core.training.events import Stage
from studio.core.training.prepare import prepare
from tests.helpers import TINY_CLS, TINY_NSP, train_cli


def test_a_pretraining_run_reports_masked_accuracy_and_records_its_probe(mlm_run):
    info = reader.read(mlm_run)
    evaluated = [row for row in info.history if row.get("eval_accuracy") is not None]
    assert info.status == "completed" and len(evaluated) == 2
    assert all(0 <= row["eval_accuracy"] <= 1 for row in evaluated)
    assert evaluated[1]["eval_loss"] < evaluated[0]["eval_loss"]
    assert (mlm_run / "attention").is_dir()  # heads can be watched forming during pretraining
    loaded = load(str(mlm_run))
    assert loaded.task.name == "mlm" and type(loaded.model).__name__ == "BertForMaskedLM"
    assert loaded.tokenizer.mask_token == "[MASK]" and loaded.tokenizer("x")["input_ids"][0] == loaded.tokenizer.cls_token_id


def test_fill_mask_equals_the_pipeline(mlm_run):
    loaded = load(str(mlm_run))
    plain = pipeline("fill-mask", model=str(mlm_run / "model"), device="cpu")
    for text in ("def [MASK](x):", "return [MASK] + [MASK]"):
        ours = fill(loaded, text, top_k=4).masks
        theirs = plain(text, top_k=4)
        theirs = [theirs] if text.count("[MASK]") == 1 else theirs
        assert len(ours) == text.count("[MASK]")
        for mine, other in zip(ours, theirs):
            assert [c.id for c in mine] == [o["token"] for o in other]
            np.testing.assert_allclose([c.score for c in mine], [o["score"] for o in other], atol=1e-6)
    with pytest.raises(ConfigError, match="has no \\[MASK\\]"):
        fill(loaded, "no gap here")
    filled = fill(loaded, "return [MASK] + [MASK]!", top_k=2)
    best = [m[0].token for m in filled.masks]
    assert filled.best_text() == [("return ", False), (best[0], True), (" + ", False), (best[1], True), ("!", False)]


def test_whole_word_masking_hides_every_piece_of_a_word(tmp_path):
    (tmp_path / "t.jsonl").write_text("".join('{"text": "extraordinarily unbelievable circumstances"}\n'
                                              for _ in range(40)))
    ds = sources.load(str(tmp_path / "t.jsonl"), tmp_path / "cache")
    tok = train_bpe(["extra ordinary believe circum stances"] * 30, 280, family="bert")
    blocks, _ = blocks_of(ds, tok, "text", 16, offsets=True)
    assert "offset_mapping" in blocks.column_names
    collate = masking(tok, 0.5, whole_words=True, seed=1)
    batch = collate([blocks[i] for i in range(len(blocks))])
    starts = np.asarray(blocks["offset_mapping"])[..., 0]
    ends = np.asarray(blocks["offset_mapping"])[..., 1]
    chosen = batch["labels"].numpy() != -100
    words_split = 0
    for row in range(len(blocks)):
        word = []
        for i in range(starts.shape[1]):
            new_word = i == 0 or starts[row, i] != ends[row, i - 1] or ends[row, i] == 0
            if new_word and word:
                words_split += len(word) > 1
                assert len({chosen[row, j] for j in word}) == 1, "a word is masked whole or not at all"
                word = []
            if ends[row, i] > 0:
                word.append(i)
    assert words_split > 0 and chosen.any()


def test_pretrain_then_fine_tune_starts_from_the_pretrained_encoder(ws, mlm_run, labelled_csv, tmp_path, capsys):
    config = validate(RunConfig(task="classify", data=str(labelled_csv), model=str(mlm_run), seq_len=32,
                                device="cpu", new_words="off"))  # the tokenizer as pretrained (test_vocabulary adds)
    notes: list[str] = []
    from studio.core.control import Control

    prepared = prepare(config, workspace.cache_dir(ws), lambda e: notes.append(e.message) if isinstance(e, Stage)
                       else None, Control())
    pretrained = load(str(mlm_run)).model.state_dict()
    tuned = prepared.model.state_dict()
    shared = [k for k in tuned if k.startswith("bert.") and k in pretrained]
    assert len(shared) > 20
    for key in shared:
        torch.testing.assert_close(tuned[key], pretrained[key])  # the encoder carries over, weight for weight
    assert any("classification head is new" in n for n in notes)
    assert prepared.tokenizer.backend_tokenizer.to_str() == load(str(mlm_run)).tokenizer.backend_tokenizer.to_str()

    out = tmp_path / "tuned"
    args = [a if a != "bert-tiny" else str(mlm_run) for a in TINY_CLS if a not in ("--vocab-size", "400")]
    assert train_cli(ws, out, labelled_csv, args) == 0
    info = reader.read(out)
    assert info.base == {"run": "mlm-run", "path": str(mlm_run), "step": None}


def test_masked_lm_needs_an_encoder_with_a_mask(ws, lm_run, lm_text, capsys):
    from studio.cli import main

    assert main(["train", "--task", "mlm", "--data", str(lm_text), "--model", str(lm_run), "--max-steps", "2"]) == 2
    assert "decoder-only gpt2 model, which cannot be trained for masked language modelling" in capsys.readouterr().err
    with pytest.raises(ModelError, match="has no mask token, so it cannot fill in text"):
        fill(load(str(lm_run)), "x [MASK]")
    assert registry.get("mlm").accepts(load(str(lm_run)).model.config) is False


def test_next_sentence_prediction_trains_both_heads_and_reports_both_accuracies(nsp_run):
    info = reader.read(nsp_run)
    evaluated = [row for row in info.history if row.get("eval_loss") is not None]
    assert info.status == "completed" and len(evaluated) == 2
    assert all(0 <= row["eval_nsp_accuracy"] <= 1 and 0 <= row["eval_accuracy"] <= 1 for row in evaluated)
    names = [m.name for m in registry.get("mlm").headline_of(layout.read_config(nsp_run))]
    assert names == ["eval_accuracy", "eval_nsp_accuracy"]
    assert [m.name for m in registry.get("mlm").headline_of({})] == ["eval_accuracy"]
    saved = BertForPreTraining.from_pretrained(nsp_run / "model")  # both heads are in the model it saved
    assert saved.cls.seq_relationship.weight.shape == (2, saved.config.hidden_size)
    loaded = load(str(nsp_run))  # and it is used as any masked LM is: fill-mask, attention
    assert loaded.task.name == "mlm" and type(loaded.model).__name__ == "BertForMaskedLM"
    assert len(fill(loaded, "The river holds [MASK] stones.").masks) == 1


def test_next_sentence_accuracy_equals_a_plain_computation(ws, nsp_run, stories_jsonl):
    """The metric the engine logs, given the model's own outputs, equals counting the right guesses by hand."""
    from transformers import EvalPrediction

    from studio.core.data.sentence_pairs import pairs_of
    from studio.core.tasks.mlm import MaskedAccuracy

    tokenizer = load(str(nsp_run)).tokenizer
    model = BertForPreTraining.from_pretrained(nsp_run / "model").eval()
    rows = sources.load(str(stories_jsonl), ws / "cache")
    features, _ = pairs_of(rows.select(range(30)), tokenizer, "text", 32, seed=7, ordered=False)
    batch = masking(tokenizer, 0.15, False, seed=0)([features[i] for i in range(len(features))])
    with torch.inference_mode():
        out = model(**batch)
    plain = float((out.seq_relationship_logits.argmax(-1) == batch["next_sentence_label"]).float().mean())
    metric = MaskedAccuracy(next_sentence=True)
    reduced = metric.preprocess((out.prediction_logits, out.seq_relationship_logits), None)
    scores = metric(EvalPrediction(tuple(t.numpy() for t in reduced),
                                   (batch["labels"].numpy(), batch["next_sentence_label"].numpy())))
    assert scores["nsp_accuracy"] == pytest.approx(plain)
    chosen = batch["labels"] != -100
    assert scores["accuracy"] == pytest.approx(float((out.prediction_logits.argmax(-1)[chosen] ==
                                                      batch["labels"][chosen]).float().mean()))


def test_evaluate_scores_both_heads_of_an_nsp_run_as_a_plain_computation(nsp_run, stories_jsonl, ws, capsys):
    import json

    from studio.cli import main
    from studio.core.data.sentence_pairs import pairs_of
    from studio.core.tasks.mlm import _EVAL_BATCH, _EVAL_SEED

    capsys.readouterr()
    assert main(["evaluate", "--model", str(nsp_run), "--data", str(stories_jsonl), "--json"]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert set(scores) == {"loss", "accuracy", "masked_tokens", "nsp_accuracy", "pairs", "block_length"}
    loaded = load(str(nsp_run))
    model = BertForPreTraining.from_pretrained(nsp_run / "model").eval()
    pairs, _ = pairs_of(sources.load(str(stories_jsonl), ws / "cache"), loaded.tokenizer, "text", loaded.input_limit,
                        _EVAL_SEED, ordered=False)
    collate = masking(loaded.tokenizer, 0.15, False, seed=_EVAL_SEED)
    judged = right = masked = 0
    for start in range(0, len(pairs), _EVAL_BATCH):
        batch = collate([pairs[i] for i in range(start, min(start + _EVAL_BATCH, len(pairs)))])
        with torch.inference_mode():
            out = model(**batch)
        judged += int((out.seq_relationship_logits.argmax(-1) == batch["next_sentence_label"]).sum())
        chosen = batch["labels"] != -100
        right += int((out.prediction_logits.argmax(-1)[chosen] == batch["labels"][chosen]).sum())
        masked += int(chosen.sum())
    assert scores["pairs"] == len(pairs) and scores["nsp_accuracy"] == pytest.approx(judged / len(pairs))
    assert scores["masked_tokens"] == masked and scores["accuracy"] == pytest.approx(right / masked)


@pytest.mark.slow
def test_a_run_pretrained_with_nsp_fine_tunes_into_classification_and_tagging(ws, nsp_run, labelled_csv,
                                                                             tagged_jsonl):
    from studio.core.control import Control

    pretrained = BertForPreTraining.from_pretrained(nsp_run / "model").state_dict()
    for task, data in (("classify", labelled_csv), ("tag", tagged_jsonl)):
        config = validate(RunConfig(task=task, data=str(data), model=str(nsp_run), seq_len=32, device="cpu"))
        tuned = prepare(config, workspace.cache_dir(ws), lambda e: None, Control()).model.state_dict()
        shared = [k for k in tuned if k.startswith("bert.encoder.") and k in pretrained]
        assert len(shared) > 20
        for key in shared:
            torch.testing.assert_close(tuned[key], pretrained[key])


def test_nsp_refuses_a_model_without_a_next_sentence_head_and_whole_word_masking(ws, tmp_path, stories_jsonl, capsys):
    from transformers import RobertaConfig, RobertaForMaskedLM

    from studio.cli import main

    folder = tmp_path / "roberta"
    RobertaForMaskedLM(RobertaConfig(vocab_size=300, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                                     intermediate_size=64, max_position_embeddings=66)).save_pretrained(folder)
    train_bpe(["a b c"] * 10, 300, family="bart").save_pretrained(folder)
    out = tmp_path / "refused"
    assert main(["train", "--task", "mlm", "--nsp", "--data", str(stories_jsonl), "--model", str(folder),
                 "--out", str(out), "--max-steps", "2"]) == 2
    assert "roberta model, which has no next-sentence head" in capsys.readouterr().err and not out.exists()
    with pytest.raises(ConfigError, match="--whole-word-mask hides words of one text, and --nsp reads"):
        validate(RunConfig(task="mlm", data=str(stories_jsonl), options={"nsp": True, "whole_word_mask": True}))


@pytest.mark.slow
def test_next_sentence_prediction_learns_which_sentence_follows(ws, tmp_path, stories_jsonl):
    out = tmp_path / "nsp-long"
    args = [*TINY_NSP, "--max-steps", "600", "--eval-every", "300", "--save-every", "600",
            "--validation-fraction", "0.3"]
    assert train_cli(ws, out, stories_jsonl, args) == 0
    evaluated = [row for row in reader.read(out).history if row.get("eval_nsp_accuracy") is not None]
    assert evaluated[-1]["eval_nsp_accuracy"] > 0.7  # half the pairs are random: chance is 0.5
