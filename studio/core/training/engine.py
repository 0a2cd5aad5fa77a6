"""Run one training job for a run folder: fresh, resumed from its latest complete checkpoint, or one
process's part of a run of several. What the job is gets decided first (plan.py); `execute` carries
any plan out the same way.

The caller (CLI or window worker thread) passes listeners and a `Control`; training blocks until it
completes, stops on request, or fails, and always leaves the run folder in a state that
`studio runs show` can read and `--resume` can continue.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import shutil
import sqlite3
import time
import traceback
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from studio.core.control import Control
from studio.core.data.tokenizer import save_tokenizer
from studio.core.errors import StudioError, TrainingError, first_line
from studio.core.modeling import lora
from studio.core.modeling.presets import is_preset
from studio.core.runs import layout, lock, writer
from studio.core.system import device as devices
from studio.core.system import disk, load, workspace
from studio.core.system.files import atomic_dir, atomic_write_text
from studio.core.system.quiet import quiet_transformers
from studio.core.tasks import registry
from studio.core.tasks.base import EvalSet
from studio.core.training import batch_finder, budget, launch, processes, space
from studio.core.training import config as run_config
from studio.core.training import plan as planning
from studio.core.training.build import make_trainer
from studio.core.training.callback import BridgeCallback
from studio.core.training.config import RunConfig
from studio.core.training.events import Event, Listener, RunStarted, Stage, Status
from studio.core.training.plan import Plan
from studio.core.training.prepare import Prepared, prepare
from studio.core.training.sizing import training_size
from studio.core.training.trainer import TokenCounter

_OOM = getattr(torch, "OutOfMemoryError", torch.cuda.OutOfMemoryError)


@dataclass
class TrainResult:
    run_dir: str
    status: str
    global_step: int
    model_dir: str | None
    message: str


def train(config: RunConfig, *, root: Path | None = None, out: Path | None = None,
          listeners: Iterable[Listener] = (), control: Control | None = None) -> TrainResult:
    """Start a new run. `root` is the workspace (runs and caches); `out` an explicit run folder."""
    return execute(planning.new(config, root, out), listeners, control)


def resume(run_dir: Path, overrides: dict[str, Any] | None = None, *, root: Path | None = None,
           listeners: Iterable[Listener] = (), control: Control | None = None) -> TrainResult:
    """Continue `run_dir` from its latest complete checkpoint (see `plan.resume`)."""
    return execute(planning.resume(run_dir, overrides, root), listeners, control)


def launched(run_dir: Path, *, root: Path, resume: bool, listeners: Iterable[Listener] = (),
             control: Control | None = None) -> TrainResult:
    """This process's part of a run of several (see worker.py)."""
    return execute(planning.launched(run_dir, root, resume), listeners, control)


def execute(plan: Plan, listeners: Iterable[Listener] = (), control: Control | None = None) -> TrainResult:
    """Carry out a plan: prepare the data, tokenizer and model, size the batch, fit the time budget,
    write the run folder, train. Blocks until training completes, stops on request, or fails."""
    emit, control, device, precision = _setup(plan.config, listeners, control)
    if plan.launched or plan.run_dir is None:  # a launched process's launcher holds it; a new name is taken below
        return _execute(plan, emit, control, device, precision)
    with lock.held(plan.run_dir):
        plan.check_folder()
        return _execute(plan, emit, control, device, precision)


def _execute(plan: Plan, emit: Listener, control: Control, device: str, precision: str) -> TrainResult:
    for note in plan.notes:
        emit(Stage("checkpoint", note))
    if plan.launches:
        return _launch(plan, device, emit, control)
    with processes.main_first():  # launched: the others find the data cached and the run's tokenizer saved
        with control.nothing_to_lose():  # the run folder is written only after this
            prepared = prepare(plan.config, workspace.cache_dir(plan.root), emit, control, device=device,
                               tokenizer_dir=plan.own_tokenizer)
        if plan.launched and processes.is_main() and plan.own_tokenizer is None:
            save_tokenizer(prepared.tokenizer, plan.folder() / layout.TOKENIZER)
    write_config = plan.write_config
    if plan.config.batch_size == 0:
        _find_batch(prepared, device, precision, emit)
        write_config = True
    deadline, timing = (_fit_budget(prepared, device, precision, plan.started, emit, control)
                        if plan.fresh and plan.config.minutes else (None, None))
    plan.config = prepared.config
    named = plan.run_dir is None
    run_dir = plan.run_dir = plan.folder()
    if plan.fresh:
        run_dir.mkdir(parents=True, exist_ok=True)
    with lock.held(run_dir) if named else contextlib.nullcontext():
        if plan.fresh:
            save_tokenizer(prepared.tokenizer, run_dir / layout.TOKENIZER)
        if write_config and processes.is_main():
            atomic_write_text(run_dir / layout.CONFIG_FILE, run_config.dumps(plan.config))
        return _run(prepared, run_dir, device, precision, plan.checkpoint, emit, control, deadline, timing)


def _find_batch(p: Prepared, device: str, precision: str, emit: Listener) -> None:
    """Set `p.config.batch_size` to the largest that trains on `device` (`--batch-size auto`)."""
    c = p.config
    if device == "cpu":
        found = batch_finder.CPU_BATCH
        emit(Stage("batch", f"Batch size {found}: on a CPU memory is seldom the limit, and bigger batches only make "
                            "each step slower."))
    else:
        emit(Stage("batch", f"Finding the largest batch that fits on {devices.describe(device)}..."))
        try:
            found, tried = batch_finder.find(p.model, p.train, p.task.probe_collator(p.tokenizer, p.model,
                                                                                     c.task_config()),
                                             device=device, precision=precision)
        except RuntimeError as exc:
            if "No executable batch size" not in str(exc):
                raise
            raise TrainingError(f"Not even one row of {c.seq_len} tokens trains in the memory of {device}; lower "
                                "--seq-len, or try --gradient-checkpointing or --lora.") from None
        found = processes.smallest(found)  # every GPU must take the same batch, or their steps fall out of step
        emit(Stage("batch", f"Batch size {found}: the largest that fits on {device} (tried "
                            f"{', '.join(map(str, tried))})."))
    p.config = dataclasses.replace(c, batch_size=found)


def _fit_budget(p: Prepared, device: str, precision: str, started: float, emit: Listener,
                control: Control) -> tuple[float, budget.Timing]:
    """Time this machine, set the steps and intervals of `p.config` to fit its minutes; the deadline after
    which training must end to leave time for the last evaluation and the model's save."""
    c = p.config
    timing_message = f"Timing a few steps of {c.model} on {devices.describe(device)} to fit {c.minutes:g} minutes..."
    emit(Stage("budget", timing_message, 0.0))
    collate = p.task.probe_collator(p.tokenizer, p.model, c.task_config())
    eval_size = min(c.batch_size, len(p.validation))
    timing = budget.measure(p.model, budget.sampler(p.train, collate, c.batch_size, c.seed), device=device,
                            precision=precision, grad_accum=c.grad_accum,
                            eval_batch=budget.sampler(p.validation, collate, eval_size, c.seed)(),
                            eval_batches=math.ceil(len(p.validation) / c.batch_size),
                            generate_len=p.task.length_limits(c.task_config())[1] if p.task.eval_generates else None,
                            budget_s=c.minutes * 60, control=control,
                            progress=lambda fraction: emit(Stage("budget", timing_message, fraction)))
    end = started + c.minutes * 60
    plan = budget.plan(end - time.monotonic(), timing, c.minutes)
    p.config = dataclasses.replace(c, max_steps=plan.steps, eval_every=plan.eval_every, save_every=plan.save_every)
    said = [plan.describe(c.minutes, RunConfig.for_task(c.task).max_steps), load.busy_note(device)]
    emit(Stage("budget", " ".join(part for part in said if part)))
    return end - timing.eval_s - timing.save_s, timing


def _launch(plan: Plan, device: str, emit: Listener, control: Control) -> TrainResult:
    """Train in launched processes. A new run's folder and config are written here first; a refused
    launch takes back what it wrote."""
    c = plan.config
    launch.check(c, device)
    if plan.resume:
        if plan.write_config:
            atomic_write_text(plan.folder() / layout.CONFIG_FILE, run_config.dumps(c))
        return launch.run(c, plan.folder(), plan.root, device, emit, control, resume=True)
    run_dir = plan.run_dir = plan.folder()
    made = not run_dir.exists()
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(run_dir / layout.CONFIG_FILE, run_config.dumps(c))
    try:
        return launch.run(c, run_dir, plan.root, device, emit, control, resume=False)
    except StudioError as exc:
        # refused before training began, with a sentence: leave nothing behind
        if not isinstance(exc, launch.ProcessesLost) and not (run_dir / layout.METRICS_FILE).exists():
            _empty(run_dir, remove=made)
        raise


def _empty(folder: Path, remove: bool) -> None:
    """Take back what a refused launch wrote: the whole folder if it made it, else only its own files (the
    folder may be one the person gave, or shared with the first machine of the run)."""
    if remove:
        shutil.rmtree(folder, ignore_errors=True)
        return
    (folder / layout.CONFIG_FILE).unlink(missing_ok=True)
    (folder / launch.LOG).unlink(missing_ok=True)
    shutil.rmtree(folder / layout.TOKENIZER, ignore_errors=True)


def _setup(c: RunConfig, listeners: Iterable[Listener],
           control: Control | None) -> tuple[Listener, Control, str, str]:
    """One listener that fans out, a control, and the device and precision (checked before any work)."""
    listeners = list(listeners)

    def emit(event: Event) -> None:
        for listener in listeners:
            listener(event)

    device = devices.pick_device(c.device)
    if c.qlora:
        lora.check_quantized(device)
    return emit, control or Control(), device, devices.pick_precision(device, c.precision)


def _run(p: Prepared, run_dir: Path, device: str, precision: str, checkpoint: tuple[int, Path] | None,
         emit: Listener, control: Control, deadline: float | None = None,
         timing: budget.Timing | None = None) -> TrainResult:
    c = p.config
    main = processes.is_main()
    store = writer.RunStore(run_dir) if main else writer.NoStore(run_dir)
    start_step = checkpoint[0] if checkpoint else 0
    store.truncate_after(start_step)
    total, trainable = lora.parameter_counts(p.model)
    size = training_size(c, p.task, p.model.config, c.batch_size, precision)
    store.set_meta(task=c.task, model=c.model, device=device, precision=precision, stats=p.stats,
                   parameters=total, trainable_parameters=trainable, estimated_bytes=size.training_bytes,
                   global_step=start_step, base=None if is_preset(c.model) else layout.base_of(c.model),
                   world_size=processes.count(), trains_into=registry.tasks_accepting(p.model.config))
    store.mark_running(c.max_steps)
    emit(RunStarted(str(run_dir)))
    emit(Stage("model", f"{c.model}: {total / 1e6:.2f} M parameters, about "
                        f"{size.training_bytes / 2**20:.0f} MiB to train on {devices.describe(device)} ({precision})."))
    counter = TokenCounter()
    metrics = p.task.metrics(p.tokenizer, EvalSet(p.validation_rows, p.validation, p.columns), p.info)
    bridge = BridgeCallback(store, emit, control, tokens_seen=counter, memory=lambda: devices.memory_used(device),
                            derived=p.task.derived, report=metrics.take_report if metrics else lambda: None,
                            deadline=deadline, timing=timing)
    trainer = make_trainer(p, run_dir, device, precision, counter, bridge, metrics)
    finishing = checkpoint is not None and checkpoint[0] >= c.max_steps  # killed while its model was written
    if checkpoint:
        emit(Stage("checkpoint", f"All {c.max_steps} steps are trained; writing the model from checkpoint "
                                 f"{checkpoint[0]}..." if finishing else f"Resuming from step {checkpoint[0]}..."))
    try:
        if finishing:
            # Trainer.train would take one step more; the checkpoint's weights are the finished model's
            trainer._load_from_checkpoint(str(checkpoint[1]))
            trainer.state.global_step = checkpoint[0]
        else:
            with quiet_transformers():
                trainer.train(resume_from_checkpoint=str(checkpoint[1]) if checkpoint else None)
        step = trainer.state.global_step
        store.set_meta(global_step=step)  # the last step is logged only when it falls on a logging step
        if bridge.diverged_at is not None:
            raise TrainingError(f"Training diverged at step {bridge.diverged_at} (the loss is no longer a number); "
                                f"lower the learning rate (now {c.lr:g}) and start again, or resume from the last "
                                "checkpoint.")
        if bridge.stopped_at is not None:
            message = f"Stopped at step {step}; a checkpoint was saved, so the run can be resumed."
            store.mark_finished("stopped")
            emit(Status("stopped", message))
            return TrainResult(str(run_dir), "stopped", step, None, message)
        emit(Stage("save", f"Saving the model to {run_dir / layout.MODEL}…"))
        if main:
            space.require(run_dir, space.weight_bytes(trainer.model), "the model")
        if c.lora and main:
            with quiet_transformers(), atomic_dir(run_dir / layout.ADAPTER) as adapter, \
                    atomic_dir(run_dir / layout.MODEL) as tmp:
                lora.export(trainer.model, tmp, adapter, p.task.model_class(c.task_config()) if c.qlora else None)
                p.tokenizer.save_pretrained(str(tmp))
                p.tokenizer.save_pretrained(str(adapter))
        elif not c.lora:
            _export(trainer, p.tokenizer, run_dir / layout.MODEL)
        message = f"Completed {step} steps; the model is in {run_dir / layout.MODEL}."
        if c.early_stopping and step < c.max_steps and bridge.out_of_time_at is None:
            message = (f"Stopped early at step {step}: the validation loss had not gone down for {c.early_stopping} "
                       f"evaluations. The model is the best checkpoint, step {trainer.state.best_global_step}, in "
                       f"{run_dir / layout.MODEL}.")
        if bridge.out_of_time_at is not None:
            message = (f"The time budget ran out at step {step} of the {c.max_steps} planned (this machine ran slower "
                       f"than when it was timed); the model is in {run_dir / layout.MODEL}.")
        store.mark_finished("completed")
        emit(Status("completed", message))
        return TrainResult(str(run_dir), "completed", step, str(run_dir / layout.MODEL), message)
    except _OOM:
        # with several processes the others wait inside a step's collective: a checkpoint cannot be agreed on
        saved = None if processes.several() else _save_after_oom(trainer, run_dir)
        kept = (f"a checkpoint was saved at step {saved}: resume it" if saved else "start again")
        error = TrainingError(f"Out of memory on {device} at batch size {c.batch_size} ({c.seq_len} tokens a row); "
                              f"{kept} with --batch-size {max(1, c.batch_size // 2)}, or --batch-size auto to find "
                              "the largest that fits (--gradient-checkpointing and --lora need less memory too).")
        _fail(store, emit, error, run_dir)
        raise error from None
    except BaseException as exc:
        if disk.is_full(exc):  # a write ran out of space: the staged file is gone, the checkpoints are whole
            exc = space.ran_out(run_dir, "the model" if bridge.stopped_at is None and trainer.state.global_step >=
                                c.max_steps else "the run's files")
            _fail(store, emit, exc, run_dir)
            raise exc from None
        _fail(store, emit, exc, run_dir)
        raise
    finally:
        store.close()


def _export(trainer: Any, tokenizer: Any, out: Path) -> None:
    """The trained model and its tokenizer into `out`, whole or not at all. Every process calls this: a
    sharded (FSDP) model gathers its weights from all of them inside save_model, which writes only on the
    main process."""
    if not processes.is_main():
        trainer.save_model(str(out))
        return
    with quiet_transformers(), atomic_dir(out) as tmp:
        trainer.save_model(str(tmp))
        tokenizer.save_pretrained(str(tmp))


def _save_after_oom(trainer: Any, run_dir: Path) -> int | None:
    """Free what the failed step held and checkpoint the weights of the last finished step; the step that
    ran out of memory never reached the optimizer, so they are intact. None when nothing was saved."""
    from accelerate.utils.memory import clear_device_cache

    step = trainer.state.global_step
    if step == 0:
        return None
    latest = layout.latest_checkpoint(run_dir)
    if latest and latest[0] == step:
        return step
    try:
        if trainer.optimizer is not None:
            trainer.optimizer.zero_grad(set_to_none=True)
        clear_device_cache(garbage_collection=True)
        # Trainer offers no public call that writes a resumable checkpoint (weights, optimizer, scheduler, state)
        trainer._save_checkpoint(trainer.model, trial=None)
    except Exception:  # noqa: BLE001 - still out of memory: the sentence says to start again
        return None
    return step


def _fail(store: writer.RunStore, emit: Listener, exc: BaseException, run_dir: Path) -> None:
    if isinstance(exc, KeyboardInterrupt):
        with contextlib.suppress(OSError, sqlite3.Error):
            store.mark_finished("stopped", "Interrupted.")
        return
    text = str(exc) if isinstance(exc, StudioError) else f"{type(exc).__name__}: {first_line(exc)}"
    # on a full disk these writes fail too; the failure is still said (the run reads as stopped, resumable)
    with contextlib.suppress(OSError, sqlite3.Error):
        if not isinstance(exc, StudioError):
            name = "error.log" if processes.is_main() else f"error-process{processes.rank()}.log"
            atomic_write_text(run_dir / name, "".join(traceback.format_exception(exc)))
        store.mark_finished("failed", text)
    emit(Status("failed", text))
