"""Training throughput: `studio train`'s engine against a plain PyTorch loop, same model, data and device.

Both sides train gpt-tiny on the same token blocks with AdamW, cosine schedule, gradient clipping and
the same batch size; only optimizer steps after the first are timed (the first pays one-off costs).
Rounds alternate engine and loop so drift in machine speed hits both. Target ratio >= 0.95.
"""

from __future__ import annotations

import argparse
import math
import time

from _common import median, report, scratch

from studio.core.data import encoding as preprocess
from studio.core.data.sources import ColumnMap, load, map_columns, split
from studio.core.data.tokenizer import load_tokenizer
from studio.core.modeling import models
from studio.core.training import engine
from studio.core.training.config import RunConfig, validate
from studio.core.training.events import Metrics


def engine_tokens_per_second(root, config: RunConfig, name: str) -> float:
    times: dict[int, float] = {}

    def listen(event) -> None:
        if isinstance(event, Metrics) and "train_loss" in event.values:
            times[event.step] = time.perf_counter()

    engine.train(config, root=root, out=root / name, listeners=[listen])
    first, last = min(k for k in times if k > 1), max(times)
    return (last - first) * config.batch_size * config.seq_len / (times[last] - times[first])


def plain_tokens_per_second(root, config: RunConfig, run_dir) -> float:
    import torch
    from transformers import get_cosine_schedule_with_warmup

    tokenizer = load_tokenizer(run_dir / "tokenizer")
    ds = load(config.data, root / "cache")
    train_rows, _ = split(ds, config.validation_fraction, config.seed)
    column = map_columns(ds, "lm", ColumnMap()).text
    blocks, _ = preprocess.prepare_lm(train_rows, tokenizer, column, config.seq_len)
    torch.manual_seed(config.seed)
    model = models.build_preset(config.model, tokenizer).train()
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2]
    rest = [p for n, p in model.named_parameters() if p.ndim < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": config.weight_decay},
                                   {"params": rest, "weight_decay": 0.0}], lr=config.lr)
    scheduler = get_cosine_schedule_with_warmup(optimizer, math.ceil(config.warmup * config.max_steps),
                                                config.max_steps)
    data = torch.tensor(blocks.with_format("numpy")["input_ids"][: config.max_steps * config.batch_size])
    loader = torch.utils.data.DataLoader(data, batch_size=config.batch_size, shuffle=True, drop_last=True)
    start = None
    for step, batch in enumerate(loader, start=1):
        loss = model(input_ids=batch, labels=batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        if step == 1:
            start = time.perf_counter()
        if step == config.max_steps:
            break
    return (step - 1) * config.batch_size * config.seq_len / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--seq-len", type=int, default=128)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    root = scratch()
    config = validate(RunConfig(data="sample:python-code", max_steps=args.steps, batch_size=args.batch_size,
                       seq_len=args.seq_len, eval_every=10**6, save_every=10**6, device=args.device))
    studio, plain = [], []
    for i in range(args.rounds):
        studio.append(engine_tokens_per_second(root, config, f"run{i}"))
        plain.append(plain_tokens_per_second(root, config, root / "run0"))
    report("train_throughput", {
        "model": config.model, "device": args.device, "batch_size": config.batch_size, "seq_len": config.seq_len,
        "steps": config.max_steps, "rounds": args.rounds,
        "studio_tokens_per_second": round(median(studio)), "plain_tokens_per_second": round(median(plain)),
        "ratio": round(median(studio) / median(plain), 3),
        "studio_each": [round(x) for x in studio], "plain_each": [round(x) for x in plain]})


if __name__ == "__main__":
    main()
