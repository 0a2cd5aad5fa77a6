"""Each private Trainer method that Studio's trainers override, on its own, with a model of a few thousand
weights: a transformers release that renames or reshapes one of them fails here by name."""

from __future__ import annotations

import json

import pytest
import torch
from datasets import Dataset
from transformers import GPT2Config, GPT2LMHeadModel, Trainer, TrainerCallback, TrainingArguments
from transformers.trainer import TRAINING_ARGS_NAME

from studio.core.runs import layout
from studio.core.training.trainer import STAGING, TOKENS, CountingCollator, TokenCounter, studio_trainer

ROWS, LENGTH = 8, 8


def _collate(features):
    ids = torch.tensor([f["input_ids"] for f in features])
    return {"input_ids": ids, "labels": ids.clone()}


def _trainer(run_dir, steps: int, save_every: int = 10**6, keep: int = 3, callbacks=()) -> Trainer:
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(vocab_size=32, n_positions=LENGTH, n_embd=16, n_layer=1, n_head=2,
                                       bos_token_id=0, eos_token_id=0, pad_token_id=0))
    rows = Dataset.from_dict({"input_ids": [[(i + j) % 32 for j in range(LENGTH)] for i in range(ROWS)]})
    args = TrainingArguments(output_dir=str(run_dir / layout.CHECKPOINTS), max_steps=steps, per_device_train_batch_size=2,
                             per_device_eval_batch_size=2, save_strategy="steps", save_steps=save_every,
                             save_total_limit=None, report_to="none", use_cpu=True, disable_tqdm=True,
                             remove_unused_columns=False, logging_steps=1)
    trainer = studio_trainer(Trainer)(model=model, args=args, train_dataset=rows, eval_dataset=rows,
                                      data_collator=CountingCollator(_collate, lambda batch: int(batch["input_ids"].numel())),
                                      callbacks=list(callbacks))
    trainer.keep_checkpoints = keep
    trainer.tokens = TokenCounter()
    return trainer


def test_prepare_inputs_counts_training_tokens_and_hides_them_from_the_model(tmp_path):
    trainer = _trainer(tmp_path, steps=3)
    trainer.train()  # the model would refuse an unknown keyword if the count reached it
    assert trainer.tokens() == 3 * 2 * LENGTH
    trainer.evaluate()
    assert trainer.tokens() == 3 * 2 * LENGTH  # evaluation batches are not training tokens
    assert trainer._prepare_inputs({TOKENS: 5, "input_ids": torch.zeros(1, 2, dtype=torch.long)}).keys() == {"input_ids"}


def test_a_checkpoint_is_written_in_staging_and_renamed_into_place(tmp_path, monkeypatch):
    seen = []
    real = Trainer._save_checkpoint

    def watched(self, model, trial):
        seen.append(self._get_output_dir(trial))
        real(self, model, trial)

    monkeypatch.setattr(Trainer, "_save_checkpoint", watched)
    _trainer(tmp_path, steps=2, save_every=1).train()
    assert seen == [str(tmp_path / layout.CHECKPOINTS / STAGING)] * 2
    assert [s for s, _ in layout.checkpoints(tmp_path)] == [1, 2]
    assert not (tmp_path / layout.CHECKPOINTS / STAGING).exists()


def test_a_checkpoint_that_fails_half_way_is_never_listed(tmp_path, monkeypatch):
    def half(self, model, trial):
        folder = tmp_path / layout.CHECKPOINTS / STAGING / f"checkpoint-{self.state.global_step}"
        folder.mkdir(parents=True)
        (folder / "model.safetensors").write_bytes(b"half")
        raise OSError("No space left on device")

    monkeypatch.setattr(Trainer, "_save_checkpoint", half)
    with pytest.raises(OSError):
        _trainer(tmp_path, steps=2, save_every=1).train()
    assert layout.checkpoints(tmp_path) == [] and not (tmp_path / layout.CHECKPOINTS / "checkpoint-1").exists()


class _BestIsFirst(TrainerCallback):
    """What early stopping leaves in the state when the first checkpoint had the best validation loss."""

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step >= 2:
            state.best_global_step = 1


def test_pruning_keeps_the_newest_and_the_best_named_where_it_lives(tmp_path):
    _trainer(tmp_path, steps=5, save_every=1, keep=2, callbacks=[_BestIsFirst()]).train()
    assert [s for s, _ in layout.checkpoints(tmp_path)] == [1, 4, 5]
    state = json.loads((tmp_path / layout.CHECKPOINTS / "checkpoint-5" / "trainer_state.json").read_text())
    assert state["best_model_checkpoint"] == str(tmp_path / layout.CHECKPOINTS / "checkpoint-1")


def test_a_saved_model_holds_nothing_that_must_be_unpickled(tmp_path):
    trainer = _trainer(tmp_path, steps=1)
    trainer.save_model(str(tmp_path / "model"))
    assert not (tmp_path / "model" / TRAINING_ARGS_NAME).exists()
    assert GPT2LMHeadModel.from_pretrained(tmp_path / "model").config.n_embd == 16
