"""Trainer for a prepared run: its arguments (schedule, precision, checkpoints, memory options, data
loading), its collator, and its callbacks (the bridge, the probe, the sample answers, early stopping,
TensorBoard)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from transformers import EarlyStoppingCallback, PrinterCallback, TrainingArguments
from transformers.integrations import TensorBoardCallback, is_tensorboard_available

from studio.core.runs import layout
from studio.core.system import device as devices
from studio.core.training import processes, samples
from studio.core.training.callback import BridgeCallback, ProbeCallback
from studio.core.training.prepare import Prepared
from studio.core.training.trainer import CountingCollator, TokenCounter, studio_trainer

# transformers 5.x renamed gradient checkpointing to activation checkpointing along the way
_CHECKPOINTING = ("activation_checkpointing" if "activation_checkpointing" in TrainingArguments.__dataclass_fields__
                  else "gradient_checkpointing")


def loader_workers(device: str) -> int:
    """Data loader worker processes for each training process on `device`."""
    if not device.startswith("cuda"):
        return 0
    return max(1, min(4, (os.cpu_count() or 1) // processes.count() - 1))


def make_trainer(p: Prepared, run_dir: Path, device: str, precision: str, counter: TokenCounter,
             bridge: BridgeCallback, metrics: Any) -> Any:
    c = p.config
    common = dict(
        output_dir=str(run_dir / layout.CHECKPOINTS), max_steps=c.max_steps, per_device_train_batch_size=c.batch_size,
        per_device_eval_batch_size=c.batch_size, gradient_accumulation_steps=c.grad_accum, learning_rate=c.lr,
        weight_decay=c.weight_decay, warmup_steps=c.warmup, lr_scheduler_type="cosine", max_grad_norm=1.0,
        eval_strategy="steps", eval_steps=c.eval_every, save_strategy="steps", save_steps=c.save_every,
        save_total_limit=None, logging_steps=c.log_every, logging_first_step=True, report_to="none",
        seed=c.seed, data_seed=c.seed, bf16=precision == "bf16", fp16=precision == "fp16",
        use_cpu=device == "cpu", dataloader_pin_memory=device.startswith("cuda"),
        disable_tqdm=True, remove_unused_columns=False, include_num_input_tokens_seen="no",
        # every task's model uses all its trainable weights in each step; looking for unused ones costs DDP
        # an extra pass over the autograd graph every step
        ddp_find_unused_parameters=False,
    )
    common["torch_compile"] = c.compile
    # On a GPU, worker processes collate the next batches while the GPU computes, as a plain PyTorch loop
    # would; on a CPU they would take cores from the training itself.
    workers = loader_workers(device)
    common.update(dataloader_num_workers=workers, dataloader_persistent_workers=workers > 0)
    if workers:
        # the workers are forked after the data was tokenized in parallel; said once, tokenizers keeps
        # quiet instead of warning from every worker that it turns its threads off
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # TF32 matmuls where the GPU has them (Ampere and later): fp32 work at tensor-core speed, as a plain
    # PyTorch loop would set it
    common["tf32"] = True if devices.has_tf32(device) else None
    if c.early_stopping:
        # the best checkpoint by validation loss (every task has one) is kept and loaded back at the end
        common.update(load_best_model_at_end=True, metric_for_best_model="eval_loss", greater_is_better=False)
    common[_CHECKPOINTING] = c.gradient_checkpointing
    # non-reentrant checkpointing works when the inputs do not require grad (a frozen embedding under LoRA)
    common[f"{_CHECKPOINTING}_kwargs"] = {"use_reentrant": False} if c.gradient_checkpointing else None
    collator = CountingCollator(p.task.collator(p.tokenizer, p.model, c.task_config()), p.task.tokens_in)
    parts = dict(model=p.model, train_dataset=p.train, eval_dataset=p.validation, data_collator=collator,
                 processing_class=p.tokenizer, callbacks=[bridge], compute_metrics=metrics)
    if metrics is not None and metrics.preprocess is not None:  # trl's DPOTrainer takes no such argument
        parts["preprocess_logits_for_metrics"] = metrics.preprocess
    spec = p.task.trainer(p.model, c.task_config())
    trainer = studio_trainer(spec.trainer)(args=spec.arguments(**common, **spec.options), **parts, **spec.parts)
    # the probe runs the model on the main process alone, which a sharded model cannot do
    if c.probe_text.strip() and processes.is_main() and not c.fsdp:
        trainer.add_callback(ProbeCallback(run_dir, p.tokenizer, c.probe_text, bridge.emit))
    prompts = samples.chosen(p.task, c.sample_prompts, p.validation_rows, p.columns)
    if prompts and processes.is_main() and not c.fsdp:  # a sharded model cannot generate on one process
        trainer.add_callback(samples.SamplesCallback(bridge.store, bridge.emit, p.task, p.tokenizer, prompts, device,
                                                     {"seq_len": c.seq_len, **c.options}))
    if c.early_stopping:
        trainer.add_callback(EarlyStoppingCallback(early_stopping_patience=c.early_stopping))
    if processes.is_main() and is_tensorboard_available():
        # Trainer's own TensorBoard reporting, for people who follow runs there too; in the run folder
        board = TensorBoardCallback()
        board.logging_dir = str(run_dir / layout.TENSORBOARD)
        trainer.add_callback(board)
    trainer.remove_callback(PrinterCallback)  # it prints every log dict; listeners report instead
    trainer.keep_checkpoints = c.keep_checkpoints
    trainer.tokens = counter
    return trainer
