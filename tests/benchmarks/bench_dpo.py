"""DPO step throughput: Studio's engine (`--task prefer`) against trl's DPOTrainer used directly, on the same
pairs, model, tokenizer, batch size and schedule (target ratio >= 0.95).

Studio trains the preset from its config on sample:python-prefer; trl is given the same training pairs as
rows (it tokenizes them itself), the same preset built with the same seed and tokenizer, and a copy as its
reference. Neither evaluates nor saves while timed. Only steps after the first are timed, and rounds
alternate which side goes first, so drift in machine speed hits both.
"""

from __future__ import annotations

import argparse
import copy
import time

from _common import alternating, engine_steps_per_second, median, report, scratch, training_rows

from studio.core.data import samples
from studio.core.modeling import presets
from studio.core.training.config import RunConfig, validate


def trl_steps_per_second(root, config: RunConfig, run_dir) -> float:
    import torch
    from transformers import TrainerCallback
    from trl import DPOConfig, DPOTrainer

    task, tokenizer, _, _, train_rows, _ = training_rows(root, config, run_dir)
    rows = train_rows.select_columns(["prompt", "chosen", "rejected"])
    torch.manual_seed(config.seed)
    model = presets.build(config.model, tokenizer, task.auto_class)
    times: list[float] = []

    class Clock(TrainerCallback):
        def on_step_end(self, *args, **kwargs) -> None:
            times.append(time.perf_counter())

    args = DPOConfig(output_dir=str(root / "trl"), max_steps=config.max_steps,
                     per_device_train_batch_size=config.batch_size, learning_rate=config.lr,
                     weight_decay=config.weight_decay, warmup_steps=config.warmup, lr_scheduler_type="cosine",
                     max_grad_norm=1.0, logging_steps=config.log_every, report_to="none", use_cpu=True,
                     save_strategy="no", eval_strategy="no", disable_tqdm=True, activation_checkpointing=False,
                     max_length=config.seq_len, beta=config.options["beta"], seed=config.seed, data_seed=config.seed)
    trainer = DPOTrainer(model=model, ref_model=copy.deepcopy(model).eval(), args=args, train_dataset=rows,
                         processing_class=tokenizer, callbacks=[Clock()])
    trainer.train()
    return (len(times) - 2) / (times[-1] - times[1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--seq-len", type=int, default=128)
    parser.add_argument("--model", default="llama-tiny")
    args = parser.parse_args()
    root = scratch()
    config = validate(RunConfig(task="prefer", model=args.model, max_steps=args.steps, batch_size=args.batch_size,
                                seq_len=args.seq_len, eval_every=10**6, save_every=10**6, device="cpu"))
    samples.sample_path(config.data, root / "cache")
    studio, trl = alternating(args.rounds,
                              lambda i: engine_steps_per_second(root, config, f"run{i}") * config.batch_size,
                              lambda i: trl_steps_per_second(root, config, root / "run0") * config.batch_size)
    report("dpo_train_throughput", {
        "model": config.model, "data": config.data, "batch_size": config.batch_size, "seq_len": config.seq_len,
        "steps": config.max_steps, "rounds": args.rounds,
        "studio_pairs_per_second": round(median(studio), 2), "trl_pairs_per_second": round(median(trl), 2),
        "ratio": round(median(studio) / median(trl), 3),
        "studio_each": [round(x, 2) for x in studio], "trl_each": [round(x, 2) for x in trl]})


if __name__ == "__main__":
    main()
