"""Head statistics, aggregates, rollout, and the attention probe recorded during training."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from studio.core.attention import extract as attention
from studio.core.attention import probe as attention_probe
from studio.core.attention import stats as attention_stats
from studio.core.runs import reader
from studio.core.tasks import loaded as inference
from tests.helpers import PROBE, TINY_LM, train_cli


def _rows(t: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = np.tril(rng.random((2, 3, t, t), dtype=np.float32) + 0.01)
    return a / a.sum(-1, keepdims=True)


def test_entropy_previous_first_on_known_patterns():
    t = 6
    uniform = np.tril(np.ones((1, 1, t, t), np.float32))
    uniform /= uniform.sum(-1, keepdims=True)
    expected = np.mean([math.log(i + 1) for i in range(t)])
    assert attention_stats.entropy(uniform)[0, 0] == pytest.approx(expected, rel=1e-5)
    previous = np.zeros((1, 1, t, t), np.float32)
    previous[0, 0, 0, 0] = 1
    previous[0, 0, np.arange(1, t), np.arange(t - 1)] = 1
    assert attention_stats.previous_token(previous)[0, 0] == pytest.approx(1.0)
    assert attention_stats.first_token(previous)[0, 0] == pytest.approx(2 / t)  # rows 0 and 1 look at token 0
    assert attention_stats.entropy(previous)[0, 0] == pytest.approx(0.0, abs=1e-6)


def test_induction_score_finds_a_perfect_induction_head():
    n = 5
    t = 2 * n
    heads = np.zeros((1, 2, t, t), np.float32)
    heads[0, :, np.arange(t), 0] = 1  # both heads: everything on the first token...
    rows = np.arange(n, t)
    heads[0, 1, rows, :] = 0
    heads[0, 1, rows, rows - n + 1] = 1  # ...but head 1 attends to the token after the earlier copy
    scores = attention_stats.induction_scores(heads, n)
    assert scores[0, 0] == pytest.approx(0.0) and scores[0, 1] == pytest.approx(1.0)


def test_aggregates_and_rollout():
    a = _rows(7)
    mean, peak = attention_stats.aggregate(a, "mean"), attention_stats.aggregate(a, "max")
    assert mean.shape == peak.shape == (2, 7, 7)
    np.testing.assert_allclose(mean.sum(-1), 1.0, atol=1e-5)
    assert np.all(peak >= mean - 1e-7)
    roll = attention_stats.rollout(a)
    np.testing.assert_allclose(roll.sum(-1), 1.0, atol=1e-5)
    first = 0.5 * a[0].mean(0) + 0.5 * np.eye(7)
    np.testing.assert_allclose(roll[0], first / first.sum(-1, keepdims=True), atol=1e-6)
    np.testing.assert_allclose(roll[1], (0.5 * a[1].mean(0) + 0.5 * np.eye(7)) @ roll[0], atol=1e-5)
    with pytest.raises(ValueError):
        attention_stats.rollout(np.ones((1, 1, 2, 3), np.float32) / 3)


def test_induction_on_real_models(lm_run, sum_run):
    for run in (lm_run, sum_run):
        loaded = inference.load(str(run), attn_implementation="eager")
        scores = attention_stats.induction(loaded.model, loaded.tokenizer)
        assert scores.shape == (2, 4) and np.all((scores >= 0) & (scores <= 1))


def test_probe_recorded_at_every_evaluation_and_equal_to_a_fresh_pass(lm_run):
    found = attention_probe.recorded(lm_run)
    assert [step for step, _ in found] == [0, 8, 16, 24]
    last = attention_probe.load(found[-1][1])
    assert last.attentions.shape[:2] == (2, 4)
    np.testing.assert_allclose(last.attentions.sum(-1), 1.0, atol=2e-3)  # stored as float16
    loaded = inference.load(str(lm_run / "checkpoints" / "checkpoint-24"), attn_implementation="eager")
    ids = attention_probe.probe_ids(loaded.tokenizer, PROBE[1])
    with torch.inference_mode():
        plain = loaded.model(input_ids=torch.tensor([ids]), output_attentions=True).attentions
    np.testing.assert_allclose(last.attentions, torch.stack([x[0] for x in plain]).numpy(), atol=2e-3)
    assert attention_probe.run_of(lm_run / "model") == lm_run
    assert attention_probe.run_of(lm_run / "checkpoints" / "checkpoint-8") == lm_run


def test_encoder_decoder_probe_has_all_three_kinds(sum_run):
    found = attention_probe.recorded(sum_run)
    assert found and found[0][0] == 0
    att = attention_probe.load(found[-1][1])
    assert set(att.views()) == {"encoder", "decoder", "cross"}
    weights, rows, columns = att.views()["cross"]
    assert weights.shape[2:] == (len(rows), len(columns))


def test_recording_the_probe_does_not_change_training(ws, lm_text, tmp_path):
    short = [a if a != "24" else "12" for a in TINY_LM]
    with_probe, without = tmp_path / "with", tmp_path / "without"
    assert train_cli(ws, with_probe, lm_text, short + PROBE) == 0
    assert train_cli(ws, without, lm_text, short) == 0
    losses = [[row.get("train_loss") for row in reader.read(p).history] for p in (with_probe, without)]
    assert losses[0] == losses[1] and attention_probe.recorded(with_probe) and not attention_probe.recorded(without)
    config = (with_probe / "config.toml").read_text()
    assert "probe_text" in config


def test_summarise_gives_every_kind_its_thumbnails_and_statistics():
    att = attention.Attention(encoder_tokens=list("abc"), decoder_tokens=list("xy"), encoder_attentions=_rows(3),
                              decoder_attentions=_rows(2), cross_attentions=np.full((2, 3, 2, 3), 1 / 3, np.float32))
    summary = attention_stats.summarise(att, np.ones((2, 3), np.float32))
    assert set(summary) == {"encoder", "decoder", "cross"}
    assert summary["cross"]["thumbs"].shape == (2, 3, 2, 3) and summary["cross"]["rows"] == list("xy")
    assert np.all(summary["decoder"]["stats"]["induction"] == 1)  # induction belongs to the decoder only
    assert np.all(np.isnan(summary["encoder"]["stats"]["induction"]))
