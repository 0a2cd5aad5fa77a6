"""A budget in minutes: the plan's arithmetic, the time left, and a run that ends inside its budget."""

from __future__ import annotations

import time

import pytest

from studio.core.errors import ConfigError
from studio.core.runs import layout, reader
from studio.core.training import budget, engine
from studio.core.training.budget import Timing
from studio.core.training.config import RunConfig
from studio.core.training.events import Metrics, Stage


def test_plan_fills_the_budget_with_steps_evaluations_and_checkpoints():
    timing = Timing(step_s=0.5, eval_s=4.0, save_s=0.2)
    p = budget.plan(600, timing)
    assert p.evaluations == budget.TARGET_EVALS
    assert p.seconds <= 600 * budget.MARGIN < p.seconds + timing.step_s + timing.eval_s + timing.save_s
    # What Trainer will do with these settings is what was planned.
    assert budget.intervals_left(0, p.steps, p.eval_every) == p.evaluations
    assert p.save_every % p.eval_every == 0
    assert budget.intervals_left(0, p.steps, p.save_every) <= budget.MAX_SAVES
    assert p.steps == (600 * 0.9 - 10 * 4.0 - 5 * 0.2) // 0.5


def test_slow_evaluations_are_fewer_so_training_keeps_most_of_the_budget():
    p = budget.plan(120, Timing(step_s=0.1, eval_s=10.0, save_s=0.0))
    assert p.evaluations == 2  # 25% of 108 s holds two 10 s evaluations
    assert p.steps * 0.1 >= 0.7 * 108


def test_a_budget_too_small_for_ten_steps_says_what_would_fit():
    with pytest.raises(ConfigError, match=r"Only 4 training steps fit in 1 minute .* at least 2 minutes"):
        budget.plan(60, Timing(step_s=10.0, eval_s=5.0, save_s=0.0), minutes=1)


def test_a_budget_buying_far_fewer_steps_than_a_default_run_says_so_and_what_those_would_take():
    """A loaded machine timed 42 steps into 15 minutes, and the plan read as if that were a run."""
    timing = Timing(step_s=18.0, eval_s=10.0, save_s=0.1)
    p = budget.plan(15 * 60, timing, 15)
    said = p.describe(15, wanted=600)
    assert f"{p.steps} steps fit" in said and p.steps < 300
    assert "default run takes 600 steps to learn visibly, about 3 h" in said  # 600 x 18 s and ten evaluations
    assert budget.plan(15 * 60, Timing(step_s=0.5, eval_s=4.0, save_s=0.1), 15).few_steps(600) == ""
    assert p.few_steps(None) == "" and "That is few" not in p.describe(15)


@pytest.mark.parametrize("minutes", [-1.0, float("nan"), 1e9])
def test_impossible_budgets_are_refused(minutes):
    from studio.core.training.config import validate

    with pytest.raises(ConfigError, match="--minutes"):
        validate(RunConfig(minutes=minutes))


def test_intervals_left_count_the_last_step():
    assert budget.intervals_left(0, 100, 25) == 4
    assert budget.intervals_left(0, 105, 25) == 5  # and one at step 105
    assert budget.intervals_left(100, 105, 25) == 1
    assert budget.intervals_left(105, 105, 25) == 0
    assert budget.intervals_left(30, 100, 25) == 3


def test_calibration_leaves_the_weights_and_random_state_as_they_were():
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    model = GPT2LMHeadModel(GPT2Config(vocab_size=50, n_positions=16, n_layer=1, n_head=2, n_embd=16,
                                       bos_token_id=0, eos_token_id=0))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    torch.manual_seed(7)
    ids = torch.randint(0, 50, (4, 16))
    rng = torch.random.get_rng_state()
    timing = budget.measure(model, lambda: {"input_ids": ids, "labels": ids}, device="cpu", precision="fp32",
                            grad_accum=2, eval_batch={"input_ids": ids, "labels": ids}, eval_batches=3, generate_len=None)
    assert timing.step_s > 0 and timing.eval_s > 0
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert not any(p.grad is not None for p in model.parameters())
    assert torch.equal(torch.random.get_rng_state(), rng)  # dropout drew numbers; they are given back


@pytest.mark.slow
def test_minutes_sets_the_steps_and_the_run_ends_within_the_budget(lm_text, ws, tmp_path):
    config = RunConfig(data=str(lm_text), vocab_size=300, seq_len=16, batch_size=4, minutes=0.4, device="cpu",
                       log_every=1)
    events: list = []
    began = time.monotonic()
    result = engine.train(config, root=ws, out=tmp_path / "budget", listeners=[events.append])
    took = time.monotonic() - began
    assert result.status == "completed"
    assert took < 24 * 1.15  # the budget, with a margin for the final save and a noisy machine
    planned = [e.message for e in events if isinstance(e, Stage) and e.name == "budget"]
    assert "steps fit" in planned[-1]
    saved = layout.read_config(tmp_path / "budget")
    assert saved["minutes"] == 0.4 and saved["max_steps"] >= budget.MIN_STEPS
    assert result.global_step <= saved["max_steps"]
    left = [e.seconds_left for e in events if isinstance(e, Metrics) and e.seconds_left is not None]
    assert left and max(left) < 24 and left[-1] < left[0]


@pytest.mark.slow
def test_a_deadline_ends_a_run_that_was_planned_too_long(lm_text, ws, tmp_path, monkeypatch):
    # A machine that slows down after timing: the plan promises far more steps than the time allows.
    monkeypatch.setattr(budget, "plan", lambda seconds, timing, minutes=None: budget.Plan(
        100_000, 50_000, 50_000, 2, seconds, timing))
    config = RunConfig(data=str(lm_text), vocab_size=300, seq_len=16, batch_size=4, minutes=0.2, device="cpu")
    began = time.monotonic()
    result = engine.train(config, root=ws, out=tmp_path / "late")
    assert time.monotonic() - began < 12 * 1.2
    assert result.status == "completed" and "budget ran out" in result.message
    assert 0 < result.global_step < 100_000
    info = reader.read(tmp_path / "late")
    assert info.status == "completed" and (tmp_path / "late" / layout.MODEL).is_dir()
    assert any(r.get("eval_loss") is not None and r["step"] == result.global_step for r in info.history)


def test_a_slow_machine_is_timed_by_one_step_and_told_at_once_when_the_budget_cannot_hold_ten(monkeypatch):
    """On a busy machine timing took 4 min 50 s of a 5 minute budget; one step that already rules the budget
    out is the whole timing now, with its progress told."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    from studio.core.control import Control

    clock = [0.0]
    monkeypatch.setattr(budget.time, "perf_counter", lambda: clock[0])
    model = GPT2LMHeadModel(GPT2Config(vocab_size=50, n_positions=16, n_layer=1, n_head=2, n_embd=16,
                                       bos_token_id=0, eos_token_id=0))
    ids = torch.randint(0, 50, (2, 16))
    steps, told = [], []

    def batch():
        clock[0] += 60.0  # a minute a step
        steps.append(clock[0])
        return {"input_ids": ids, "labels": ids}

    with pytest.raises(ConfigError, match="A training step takes 60 s on this machine, so fewer than 10 steps fit in "
                                          "5 minutes; give at least 11.2 minutes"):
        budget.measure(model, batch, device="cpu", precision="fp32", grad_accum=1, eval_batch=batch(),
                       eval_batches=1, generate_len=None, budget_s=300, progress=told.append, control=Control())
    assert len(steps) == 2 and told == [0.5]  # the evaluation batch made above, one training step: half the timing

    stopped = Control()
    stopped.stop()
    with pytest.raises(Exception, match="Stopped on request"):
        budget.measure(model, batch, device="cpu", precision="fp32", grad_accum=1, eval_batch=batch(),
                       eval_batches=1, generate_len=None, budget_s=300, control=stopped)
