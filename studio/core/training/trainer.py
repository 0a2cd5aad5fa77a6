"""Trainer subclasses that write checkpoints atomically, and the batch collators.

Trainer writes `checkpoint-N` in place, file by file: a kill in the middle leaves a folder that looks
complete but is not, and resuming from it fails or, worse, loads half a model. We let Trainer write
into a staging folder and rename the finished checkpoint into place, then prune old ones ourselves
(Trainer's pruning would run inside the staging folder).
"""

from __future__ import annotations

import functools
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from transformers.trainer import TRAINER_STATE_NAME, TRAINING_ARGS_NAME

from studio.core.modeling import lora
from studio.core.runs.layout import checkpoints
from studio.core.system import disk
from studio.core.system.files import move_into_place
from studio.core.training import processes, space

STAGING = ".staging"


class _AtomicCheckpoints:
    keep_checkpoints: int = 3
    _staging: str | None = None
    tokens: TokenCounter | None = None

    def _prepare_inputs(self, inputs: dict[str, Any]) -> dict[str, Any]:
        tokens = inputs.pop(TOKENS, 0)
        if self.tokens is not None and self.model.training:  # type: ignore[attr-defined]
            self.tokens.total += tokens
        return super()._prepare_inputs(inputs)  # type: ignore[misc]

    def _get_output_dir(self, trial: Any) -> str:
        return self._staging or super()._get_output_dir(trial)  # type: ignore[misc]

    def _save_checkpoint(self, model: Any, trial: Any) -> None:
        root = Path(self.args.output_dir)  # type: ignore[attr-defined]
        staging = root / STAGING
        main = self.args.should_save  # type: ignore[attr-defined]
        what = f"checkpoint {self.state.global_step}"  # type: ignore[attr-defined]
        if main:
            shutil.rmtree(staging, ignore_errors=True)
            space.require(root.parent, space.checkpoint_bytes(root.parent, self.model), what)  # type: ignore[attr-defined]
            staging.mkdir(parents=True)
        # every process writes its own random state into the staging folder: it must exist first, and be
        # complete before it is renamed
        processes.wait_for_everyone()
        self._staging = str(staging)
        try:
            super()._save_checkpoint(model, trial)  # type: ignore[misc]
        except BaseException as exc:
            shutil.rmtree(staging, ignore_errors=True)  # half a checkpoint is no checkpoint: leave none behind
            if disk.is_full(exc):
                raise space.ran_out(root.parent, what) from None
            raise
        finally:
            self._staging = None
        processes.wait_for_everyone()
        name = f"checkpoint-{self.state.global_step}"  # type: ignore[attr-defined]
        best = self._find_best(root)
        if not main:
            return
        if best is not None:
            # Trainer names the best checkpoint by the folder it saved into (the staging one): name where
            # it lives, also in the state saved with it, which a resumed run reads
            self.state.save_to_json(str(staging / name / TRAINER_STATE_NAME))  # type: ignore[attr-defined]
        move_into_place(staging / name, root / name)
        shutil.rmtree(staging, ignore_errors=True)
        for _, old in checkpoints(root.parent)[: -self.keep_checkpoints]:  # root is RUN/checkpoints
            if str(old) != self.state.best_model_checkpoint:  # type: ignore[attr-defined]  # early stopping keeps it
                shutil.rmtree(old, ignore_errors=True)

    def _find_best(self, root: Path) -> str | None:
        step = self.state.best_global_step  # type: ignore[attr-defined]
        if not step:
            return None
        if step == self.state.global_step or (root / f"checkpoint-{step}").is_dir():  # type: ignore[attr-defined]
            self.state.best_model_checkpoint = str(root / f"checkpoint-{step}")  # type: ignore[attr-defined]
        return self.state.best_model_checkpoint  # type: ignore[attr-defined]

    def _save(self, output_dir: str | None = None, state_dict: Any = None) -> None:
        super()._save(output_dir, state_dict)  # type: ignore[misc]
        if not self.args.should_save:  # type: ignore[attr-defined]
            return
        if hasattr(self.model, "peft_config"):  # type: ignore[attr-defined]
            lora.save_model_config(self.model, output_dir or self.args.output_dir)  # type: ignore[attr-defined]
        # Trainer pickles its arguments next to the weights; our config.toml already records them, and a
        # run folder should hold nothing that must be unpickled to be read.
        (Path(output_dir or self.args.output_dir) / TRAINING_ARGS_NAME).unlink(missing_ok=True)  # type: ignore[attr-defined]


    def create_model_card(self, *args: Any, **kwargs: Any) -> None:
        """Not into the checkpoints folder, where trl's trainers write one with every checkpoint: `studio
        export` writes a model card with the run's own facts beside the model it exports."""


@functools.cache
def studio_trainer(trainer: type) -> type:
    """`trainer` (Trainer, Seq2SeqTrainer, a trl trainer) with atomic checkpoints and token counting."""
    return type(f"Studio{trainer.__name__}", (_AtomicCheckpoints, trainer), {})


class TokenCounter:
    """Counts the non-padding tokens of the training batches, for tokens/s.

    The collator counts each batch on the CPU and the count rides in the batch under TOKENS; the trainer
    takes it out before the model sees the batch. Not Trainer's `include_num_input_tokens_seen`, which
    gathers a device tensor and calls `.item()` every step, a GPU sync; and not a counter the collator
    adds to, which would count in the data loader's worker processes, out of reach.
    """

    def __init__(self) -> None:
        self.total = 0

    def __call__(self) -> int:
        return self.total


TOKENS = "studio_tokens"


class CountingCollator:
    """The task's collator, with the tokens of every batch it makes counted (see TokenCounter)."""

    def __init__(self, inner: Callable[[list[dict[str, Any]]], dict[str, Any]], count: Callable[[dict[str, Any]], int]
                 ) -> None:
        self.inner = inner
        self.count = count

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, Any]:
        batch = self.inner(features)
        batch[TOKENS] = self.count(batch)
        return batch
