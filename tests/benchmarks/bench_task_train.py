"""Training throughput of a task: Studio's engine against a plain PyTorch loop, same model, data, batches
and device (`--task classify`, `mlm`, `tag`, `chat`, `qa` or `translate`; the task's built-in sample and default
preset).

Both sides train the preset from its config (same seed) on the same tokenized rows, collated by the
task's own collator (padding per batch; for MLM, the masking), with AdamW, a cosine schedule, gradient
clipping and the same batch size. Only steps after the first are timed, and rounds alternate which side
goes first, so drift in machine speed hits both. Target ratio >= 0.95; use an even number of rounds.
"""

from __future__ import annotations

import argparse

from _common import alternating, engine_steps_per_second, median, plain_steps_per_second, report, scratch, training_rows

from studio.core.data import samples
from studio.core.modeling import presets
from studio.core.training.config import RunConfig, validate


def plain_steps(root, config: RunConfig, run_dir) -> float:
    import torch

    task, tokenizer, columns, info, train_rows, ordered = training_rows(root, config, run_dir)
    settings = config.task_config()
    task.adapt_tokenizer(tokenizer, settings, config.model)  # the run's tokenizer has it already: no change
    encoded, _ = task.encode(train_rows, tokenizer, columns, settings, ordered=ordered)
    torch.manual_seed(config.seed)
    model = presets.build(config.model, tokenizer, task.model_class(settings), **task.model_settings(info))
    loader = torch.utils.data.DataLoader(encoded.with_format(None), batch_size=config.batch_size, shuffle=True,
                                         drop_last=True, collate_fn=task.collator(tokenizer, model, config))
    return plain_steps_per_second(model, config, loader)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--task", default="classify", choices=["classify", "mlm", "tag", "chat", "qa", "translate"])
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
    studio, plain = alternating(args.rounds,
                                lambda i: engine_steps_per_second(root, config, f"run{i}") * config.batch_size,
                                lambda i: plain_steps(root, config, root / "run0") * config.batch_size)
    report(f"{args.task}_train_throughput", {
        "task": config.task, "model": config.model, "data": config.data, "device": args.device,
        "batch_size": config.batch_size, "seq_len": config.seq_len, "steps": config.max_steps, "rounds": args.rounds,
        "studio_rows_per_second": round(median(studio), 1), "plain_rows_per_second": round(median(plain), 1),
        "ratio": round(median(studio) / median(plain), 3),
        "studio_each": [round(x, 1) for x in studio], "plain_each": [round(x, 1) for x in plain]})


if __name__ == "__main__":
    main()
