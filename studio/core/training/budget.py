"""A training budget in minutes: time this machine on the real model, then size the run to fit.

People think in "I have ten minutes", not in steps. Before the first step we run a few real training
steps (forward, backward and an optimizer step at learning rate 0, so the weights do not move) and one
evaluation batch on the device the run will use, then choose the number of steps and the evaluation
and checkpoint intervals so that training, evaluations and checkpoints end inside the budget. During
the run a deadline backs the plan up (see BridgeCallback): a slower machine ends early, never late.
"""

from __future__ import annotations

import contextlib
import math
import random
import time
from dataclasses import dataclass
from typing import Any

from studio.core.errors import ConfigError
from studio.core.system import sizes
from studio.core.training import batch_finder

MIN_STEPS = 10
TARGET_EVALS = 10  # enough points for a validation curve
MAX_EVAL_SHARE = 0.25  # evaluations (generation, for summaries) may take at most this share of the budget
MAX_SAVES = 5
FEW_STEPS_SHARE = 0.5  # a budget buying under this share of a default run's steps is said to be too short
# Step times wander (other programs, thermal limits, longer batches); plan to 90% of what is left.
MARGIN = 0.9
# Checkpoints write the weights and the optimizer's two moments, all fp32: about 12 bytes a parameter.
# A conservative disk speed turns that into seconds; small models save in well under a second anyway.
_CHECKPOINT_BYTES_PER_PARAMETER = 12
_DISK_BYTES_PER_SECOND = 200e6
_CALIBRATION_SHARE = 0.02  # of the budget, spent timing steps and again timing evaluation batches
_MAX_CALIBRATION_SECONDS = 3.0
_MAX_CALIBRATION_STEPS = 20


@dataclass(frozen=True)
class Timing:
    """What one step, one whole evaluation and one checkpoint cost on this machine, in seconds."""

    step_s: float
    eval_s: float
    save_s: float


@dataclass(frozen=True)
class Plan:
    steps: int
    eval_every: int
    save_every: int
    evaluations: int
    seconds: float  # the planned time of training, evaluations and checkpoints
    timing: Timing

    def describe(self, minutes: float, wanted: int | None = None) -> str:
        """`wanted`: the steps the task's default run takes to show learning, to say when far fewer fit."""
        t = self.timing
        said = (f"A budget of {_minutes(minutes)}: a step takes {t.step_s:.3g} s and an evaluation "
                f"{t.eval_s:.3g} s here, so {self.steps:,} steps fit, evaluated every {self.eval_every:,} "
                f"(about {self.seconds / 60:.1f} min of training).")
        return " ".join(part for part in (said, self.few_steps(wanted)) if part)

    def few_steps(self, wanted: int | None) -> str:
        """A sentence when the budget buys under half the steps a default run needs, with the time those
        would take here: a run that ends before it learns anything visible should not look like a result."""
        if wanted is None or self.steps >= wanted * FEW_STEPS_SHARE:
            return ""
        every = max(1, math.ceil(wanted / TARGET_EVALS))
        needed = seconds_for(self.timing, wanted, every, every * 2) / MARGIN
        return (f"That is few: this task's default run takes {wanted:,} steps to learn visibly, about "
                f"{sizes.duration(needed)} here. Give more minutes, or a shorter sequence length or smaller "
                "batch (a step's time grows with both).")


def plan(seconds: float, timing: Timing, minutes: float | None = None) -> Plan:
    """The most steps that fit in `seconds` with up to TARGET_EVALS evaluations and a few checkpoints.

    `seconds` is what is left of a budget of `minutes` once the data is ready. Raises ConfigError when fewer than MIN_STEPS fit, naming the budget that would.
    """
    usable = seconds * MARGIN
    evaluations = max(1, min(TARGET_EVALS, math.floor(MAX_EVAL_SHARE * usable / max(timing.eval_s, 1e-9))))
    saves = min(MAX_SAVES, evaluations)
    steps = math.floor((usable - evaluations * timing.eval_s - saves * timing.save_s) / timing.step_s)
    if steps < MIN_STEPS:
        needed = (MIN_STEPS * timing.step_s + timing.eval_s + timing.save_s) / MARGIN
        if minutes is not None:
            needed += minutes * 60 - seconds  # what preparing the data and timing took already
        told = _minutes(minutes) if minutes is not None else f"{seconds:.0f} s"
        raise ConfigError(f"Only {max(steps, 0)} training steps fit in {told} on this machine (a step takes "
                          f"{timing.step_s:.3g} s, an evaluation {timing.eval_s:.3g} s); give at least "
                          f"{math.ceil(needed / 60 * 10) / 10:g} minutes, or choose a smaller model or batch.")
    eval_every = math.ceil(steps / evaluations)
    evaluations = math.ceil(steps / eval_every)
    save_every = eval_every * math.ceil(evaluations / saves)
    saves = math.ceil(steps / save_every)
    spent = steps * timing.step_s + evaluations * timing.eval_s + saves * timing.save_s
    return Plan(steps, eval_every, save_every, evaluations, spent, timing)


def seconds_for(timing: Timing, steps: int, eval_every: int, save_every: int) -> float:
    """How long a run of `steps` takes here, its evaluations and checkpoints included."""
    return (steps * timing.step_s + intervals_left(0, steps, eval_every) * timing.eval_s
            + intervals_left(0, steps, save_every) * timing.save_s)


def intervals_left(step: int, last: int, every: int) -> int:
    """Evaluations (or checkpoints) still to come after `step` in a run of `last` steps: each multiple of
    `every`, and one at the end when `last` is not a multiple (Trainer evaluates and saves a run's last
    step either way)."""
    if step >= last:
        return 0
    return last // every - step // every + (1 if last % every else 0)


def _minutes(minutes: float) -> str:
    return f"{minutes:g} minute" + ("" if minutes == 1 else "s")


def measure(model: Any, batches: Any, *, device: str, precision: str, grad_accum: int,
            eval_batch: Any, eval_batches: int, generate_len: int | None, budget_s: float = 600.0,
            progress: Any = None, control: Any = None) -> Timing:
    """Time real steps of `model` on `device`; `batches()` returns a fresh collated training batch.

    An evaluation batch is a forward pass and, for `generate_len`, greedy generation of that many tokens
    (all of them: an untrained model seldom stops early, and an upper bound keeps the plan in time).

    Takes about 2% of `budget_s` (at most a few seconds) for the steps and as much for evaluation batches, and
    never less than one of each: on a slow machine one step is the whole timing, and when it alone shows that
    fewer than MIN_STEPS fit, the budget is refused at once rather than after timing an evaluation too.
    `progress(fraction)` is told how far the timing is; `control.checkpoint()` is asked between calls. The
    optimizer runs at learning rate 0 with no weight decay, so the weights do not move, and the random state
    is put back, so a budgeted run starts exactly as the same run given its steps would.
    """
    import torch
    from accelerate.utils import send_to_device

    rng = torch.random.get_rng_state()
    cuda_rng = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None
    model.to(device)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=0.0, weight_decay=0.0)
    mixed = autocast(device, precision)
    seconds = min(_MAX_CALIBRATION_SECONDS, _CALIBRATION_SHARE * budget_s)
    told = progress or (lambda fraction: None)

    def step() -> None:
        for _ in range(grad_accum):
            with mixed:
                out = model(**send_to_device(batches(), device))
                # Without labels (a preview's random batches) any scalar of the logits costs the same backward.
                loss = out.loss if out.get("loss") is not None else out[0].float().mean()
            (loss / grad_accum).backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    def evaluate_batch() -> None:
        batch = send_to_device(eval_batch, device)
        with torch.inference_mode(), mixed:
            model(**batch)
            if generate_len is not None:
                model.generate(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                               max_length=generate_len, min_length=generate_len, num_beams=1, do_sample=False)

    was_training = model.training
    try:
        model.train()
        step_s = _timed(step, device, seconds, _MAX_CALIBRATION_STEPS, lambda f: told(f / 2), control)
        if 0 < budget_s * MARGIN < step_s * MIN_STEPS:  # no budget (a run counted in steps) is timed whole
            raise ConfigError(f"A training step takes {step_s:.3g} s on this machine, so fewer than {MIN_STEPS} steps "
                              f"fit in {_minutes(budget_s / 60)}; give at least "
                              f"{math.ceil(step_s * MIN_STEPS / MARGIN / 60 * 10) / 10:g} minutes, or choose a "
                              "smaller model, batch or sequence length.")
        model.eval()
        eval_s = _timed(evaluate_batch, device, seconds, 3, lambda f: told(0.5 + f / 2), control) * eval_batches
    finally:
        optimizer.zero_grad(set_to_none=True)
        model.train(was_training)
        torch.random.set_rng_state(rng)
        if cuda_rng is not None:
            torch.cuda.set_rng_state_all(cuda_rng)
    parameters = sum(p.numel() for p in model.parameters())
    save_s = parameters * _CHECKPOINT_BYTES_PER_PARAMETER / _DISK_BYTES_PER_SECOND
    return Timing(step_s, eval_s, save_s)


def preview(config: Any, device: str, precision: str) -> Timing:
    """The timing of a run's model before any data is read, for the plan shown before the start: the model built
    from its config with fresh weights (a preset sized for its vocabulary, or a run, folder, GGUF file or hub
    model by its config.json; timing does not depend on the weights' values), with LoRA's adapters when the run
    has them, on full-length batches of random tokens (an upper bound: real batches are padded only to their
    longest row, and a trained summarizer stops before the longest summary)."""
    import torch

    from studio.core.modeling import lora, presets, shapes
    from studio.core.modeling.loading import BUILD_LOCK, auto_class
    from studio.core.tasks import registry
    from studio.core.training.sizing import config_of

    task = registry.get(config.task)
    head = task.model_settings_for_estimate()
    if presets.is_preset(config.model):
        model_config = presets.sized_config(config.model, config.vocab_size, **head)
    else:
        model_config = config_of(config)
        for name, value in head.items():
            setattr(model_config, name, value)
    with BUILD_LOCK:
        model = auto_class(task.model_class(config.task_config())).from_config(model_config)
    if config.lora:
        model = lora.wrap(model, **config.adapters())
    source_len, target_len = task.length_limits(config.task_config())
    vocab = model_config.get_text_config().vocab_size
    generator = torch.Generator().manual_seed(0)

    def batch(size: int) -> dict[str, Any]:
        ids = torch.randint(3, vocab, (size, source_len), generator=generator)
        inputs = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
        if shapes.shape(model_config) == shapes.ENCODER_DECODER:
            inputs["decoder_input_ids"] = torch.randint(3, vocab, (size, target_len), generator=generator)
        return inputs

    size = batch_finder.planned(config.batch_size, device)
    return measure(model, lambda: batch(size), device=device, precision=precision,
                   grad_accum=config.grad_accum, eval_batch=batch(size),
                   eval_batches=math.ceil(config.eval_rows / size),
                   generate_len=target_len if task.eval_generates else None, budget_s=config.minutes * 60)


def larger_presets(name: str, choices: Any) -> list[str]:
    """The presets among `choices` of the same family as `name` and bigger, smallest first: what a GPU
    can train in the time a CPU trains `name`."""
    from studio.core.modeling.presets import PRESETS

    def size(preset: str) -> int:
        s = PRESETS[preset].size
        return s["layers"] * s["width"] ** 2

    if name not in PRESETS:
        return []
    return sorted((p for p in choices if PRESETS[p].family == PRESETS[name].family and size(p) > size(name)),
                  key=size)


def _timed(work: Any, device: str, seconds: float, most: int, progress: Any, control: Any) -> float:
    """Seconds per call of `work`: the first call warms up (allocations, kernels) and is left out when later
    calls fit in `seconds`; when it alone takes them, it is the (slightly high) answer. At most `most` calls."""
    times: list[float] = []
    began = time.perf_counter()
    while not times or (len(times) < most and time.perf_counter() - began < seconds):
        if control is not None:
            control.checkpoint()
        start = time.perf_counter()
        work()
        _sync(device)
        times.append(time.perf_counter() - start)
        spent = (time.perf_counter() - began) / seconds if seconds > 0 else 1.0
        progress(min(1.0, max(len(times) / most, spent)))
    return sum(times[1:]) / (len(times) - 1) if len(times) > 1 else times[0]


def _sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()
    elif device == "mps":
        torch.mps.synchronize()


def autocast(device: str, precision: str) -> Any:
    """The mixed-precision context a run's steps take on `device` (none for fp32)."""
    import torch

    dtypes = {"bf16": torch.bfloat16, "fp16": torch.float16}
    if precision not in dtypes:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.split(":")[0], dtype=dtypes[precision])


def sampler(dataset: Any, collate: Any, size: int, seed: int) -> Any:
    """A function returning collated batches of `size` random rows, as the training loader would."""
    pick = random.Random(seed)

    def batch() -> dict[str, Any]:
        return collate([dataset[pick.randrange(len(dataset))] for _ in range(size)])

    return batch
