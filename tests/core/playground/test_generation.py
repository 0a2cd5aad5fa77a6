"""Token alternatives, regeneration from a chosen token, presets, and seeded generations side by side."""

from __future__ import annotations

import math
import threading

import pytest
import torch

from studio.core.errors import ConfigError
from studio.core.playground import generation
from studio.core.playground.sampling import PRESETS, Sampling
from studio.core.tasks import loaded as inference


@pytest.fixture(scope="module")
def lm(lm_run):
    return inference.load(str(lm_run))


@pytest.fixture(scope="module")
def s2s(sum_run):
    return inference.load(str(sum_run))


def test_greedy_matches_plain_generate_and_alternatives_rank_it_first(lm):
    result = generation.generate(lm, "def ", Sampling(max_new_tokens=10, greedy=True))
    ids = lm.tokenizer("def ", add_special_tokens=False)["input_ids"]
    with torch.inference_mode():
        plain = lm.model.generate(torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                                  do_sample=False, max_new_tokens=10, pad_token_id=lm.tokenizer.pad_token_id)
    assert [t.id for t in result.tokens] == plain[0, len(ids):].tolist()
    for token in result.tokens:
        assert 1 <= len(token.alternatives) <= 5
        assert token.alternatives[0].id == token.id  # greedy took the likeliest
        assert token.alternatives[0].logprob == pytest.approx(token.logprob, abs=1e-5)
        probs = [math.exp(a.logprob) for a in token.alternatives]
        assert probs == sorted(probs, reverse=True) and sum(probs) <= 1 + 1e-6


def test_forced_tokens_continue_from_a_chosen_alternative(lm):
    sampling = Sampling(max_new_tokens=8, greedy=True)
    first = generation.generate(lm, "def ", sampling)
    second_choice = first.tokens[2].alternatives[1].id
    forced = [t.id for t in first.tokens[:2]] + [second_choice]
    seen: list[generation.Token] = []
    again = generation.generate(lm, "def ", sampling, forced=forced, on_token=seen.append)
    assert [t.id for t in again.tokens[:3]] == forced
    assert [t.id for t in seen] == [t.id for t in again.tokens]
    assert len(again.tokens) == 3 + 8
    assert "".join(t.text for t in again.tokens) == again.text
    # continuing greedily after the same prefix is what a plain greedy run would have chosen next
    plain = generation.generate(lm, "def ", sampling, forced=[t.id for t in first.tokens[:2]])
    assert [t.id for t in plain.tokens[:8]] == [t.id for t in first.tokens]


def test_forced_tokens_on_an_encoder_decoder(s2s):
    sampling = Sampling(max_new_tokens=5, greedy=True)
    text = "def f(x, y):\n    return x + y"
    first = generation.summarize(s2s, text, sampling)
    forced = [first.tokens[0].alternatives[1].id]
    again = generation.summarize(s2s, text, sampling, forced=forced)
    assert again.tokens[0].id == forced[0] and 1 < len(again.tokens) <= 6


def test_presets_apply_and_are_recognised():
    base = Sampling()
    assert base.preset_name() == "balanced"
    for name in PRESETS:
        assert base.with_preset(name).preset_name() == name
    assert Sampling(temperature=0.55).preset_name() is None
    with pytest.raises(ConfigError, match="no preset"):
        base.with_preset("wild")


def test_seeded_generations_side_by_side_stay_reproducible(lm):
    sampling = Sampling(max_new_tokens=12, seed=11, temperature=1.5, top_k=0)
    alone = generation.generate(lm, "def ", sampling).text
    box: dict[int, str] = {}
    workers = [threading.Thread(target=lambda i=i: box.update({i: generation.generate(lm, "def ", sampling).text}))
               for i in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    assert box == {0: alone, 1: alone}
