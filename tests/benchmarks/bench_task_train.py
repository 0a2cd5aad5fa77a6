"""Training throughput of a task: Studio's engine against a plain PyTorch loop, same model, data, batches
and device (`--task classify`, `mlm`, `tag` or `chat`; the task's built-in sample and default preset).

Both sides train the preset from its config (same seed) on the same tokenized rows, collated by the
task's own collator (padding per batch; for MLM, the masking), with AdamW, a cosine schedule, gradient
clipping and the same batch size. Only steps after the first are timed, and rounds alternate which side
goes first, so drift in machine speed hits both. Target ratio >= 0.95; use an even number of rounds.
"""

from __future__ import annotations

import argparse

from _common import engine_steps_per_second, median, plain_steps_per_second, report, scratch

from studio.core.data import samples, sources
from studio.core.data.columns import map_columns
from studio.core.data.tokenizer import load_tokenizer
from studio.core.modeling import presets
from studio.core.tasks import registry
from studio.core.training.config import RunConfig, validate


def plain_steps(root, config: RunConfig, run_dir) -> float:
    import torch

    task = registry.get(config.task)
    flags = {c.role: c.flag for c in task.columns}
    tokenizer = load_tokenizer(run_dir / "tokenizer")
    source = sources.resolve(config.data, root / "cache")
    ds = sources.load_resolved(source, root / "cache")
    columns = map_columns(ds, task.columns, {}, flags)
    ds, info = task.inspect(ds, columns, flags)
    train_rows, _ = task.split(ds, config.validation_fraction, config.seed, ordered=source.builder == "text")
    settings = config.task_config()
    task.adapt_tokenizer(tokenizer, settings, config.model)  # the run's tokenizer has it already: no change
    encoded, _ = task.encode(train_rows, tokenizer, columns, settings, ordered=source.builder == "text")
    torch.manual_seed(config.seed)
    model = presets.build(config.model, tokenizer, task.auto_class, **task.model_settings(info))
    loader = torch.utils.data.DataLoader(encoded.with_format(None), batch_size=config.batch_size, shuffle=True,
                                         drop_last=True, collate_fn=task.collator(tokenizer, model, config))
    return plain_steps_per_second(model, config, loader)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--task", default="classify", choices=["classify", "mlm", "tag", "chat"])
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--seq-len", type=int, default=128)
    parser.add_argument("--model", help="a preset (default: the task's)")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    root = scratch()
    config = validate(RunConfig(task=args.task, model=args.model or "", max_steps=args.steps,
                                batch_size=args.batch_size, seq_len=args.seq_len, eval_every=10**6, save_every=10**6,
                                device=args.device))
    samples.sample_path(config.data, root / "cache")
    studio, plain = [], []
    for i in range(args.rounds):
        # whichever side runs second in a round ran up to 10% faster (measured on 2 cores, chat): the order
        # alternates, so that advantage goes to each side in turn (the first round makes the tokenizer)
        sides = [lambda i=i: studio.append(engine_steps_per_second(root, config, f"run{i}") * config.batch_size),
                 lambda: plain.append(plain_steps(root, config, root / "run0") * config.batch_size)]
        for side in sides if i % 2 == 0 else reversed(sides):
            side()
    report(f"{args.task}_train_throughput", {
        "task": config.task, "model": config.model, "data": config.data, "device": args.device,
        "batch_size": config.batch_size, "seq_len": config.seq_len, "steps": config.max_steps, "rounds": args.rounds,
        "studio_rows_per_second": round(median(studio), 1), "plain_rows_per_second": round(median(plain), 1),
        "ratio": round(median(studio) / median(plain), 3),
        "studio_each": [round(x, 1) for x in studio], "plain_each": [round(x, 1) for x in plain]})


if __name__ == "__main__":
    main()
