"""Training throughput: `studio train`'s engine against a plain PyTorch loop, same model, data and device.

Both sides train gpt-tiny on the same token blocks with AdamW, cosine schedule, gradient clipping and
the same batch size; only optimizer steps after the first are timed (the first pays one-off costs).
Rounds alternate engine and loop so drift in machine speed hits both. Target ratio >= 0.95.
"""

from __future__ import annotations

import argparse

from _common import engine_steps_per_second, median, plain_steps_per_second, report, scratch

from studio.core.data import sources
from studio.core.data.tokenizer import load_tokenizer
from studio.core.modeling import presets
from studio.core.tasks import registry
from studio.core.tasks.lm import BlockCollator, blocks_of
from studio.core.training.config import RunConfig, validate


def plain_steps(root, config: RunConfig, run_dir) -> float:
    import torch

    task = registry.get("lm")
    tokenizer = load_tokenizer(run_dir / "tokenizer")
    ds = sources.load(config.data, root / "cache")
    train_rows, _ = sources.split(ds, config.validation_fraction, config.seed)
    blocks, _ = blocks_of(train_rows, tokenizer, "text", config.seq_len)
    torch.manual_seed(config.seed)
    model = presets.build(config.model, tokenizer, task.auto_class)
    loader = torch.utils.data.DataLoader(blocks.with_format(None), batch_size=config.batch_size, shuffle=True,
                                         drop_last=True, collate_fn=BlockCollator())
    return plain_steps_per_second(model, config, loader)


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
    tokens = config.batch_size * config.seq_len  # every block is full
    for i in range(args.rounds):
        studio.append(engine_steps_per_second(root, config, f"run{i}") * tokens)
        plain.append(plain_steps(root, config, root / "run0") * tokens)
    report("train_throughput", {
        "model": config.model, "device": args.device, "batch_size": config.batch_size, "seq_len": config.seq_len,
        "steps": config.max_steps, "rounds": args.rounds,
        "studio_tokens_per_second": round(median(studio)), "plain_tokens_per_second": round(median(plain)),
        "ratio": round(median(studio) / median(plain), 3),
        "studio_each": [round(x) for x in studio], "plain_each": [round(x) for x in plain]})


if __name__ == "__main__":
    main()
