"""Masked language modelling (BERT-style pretraining): learn to fill in hidden tokens; masked-token
accuracy; the Playground fills in the mask token.

Rows follow transformers' run_mlm recipe: each is encoded through the tokenizer's template
(`[CLS] text [SEP]`), then all are concatenated and cut into blocks of `seq_len`; the library's
`DataCollatorForLanguageModeling` chooses 15% of the tokens (never the template's), and replaces 80%
of those by the mask token, 10% by a random token and leaves 10%. Next-sentence prediction is left
out: RoBERTa (Liu et al., 2019) found that dropping it matches or improves downstream results.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from studio.core.control import Control
from studio.core.data.columns import TEXT, Column
from studio.core.settings import Setting
from studio.core.tasks import outputs
from studio.core.tasks.base import (
    Command,
    EvalMetrics,
    EvalSet,
    Metric,
    OnToken,
    PlaygroundSpec,
    Progress,
    Request,
    Task,
    TaskConfig,
)

if TYPE_CHECKING:
    from datasets import Dataset

_EVAL_BATCH = 8
_EVAL_SEED = 0  # evaluate hides the same tokens each time, so two models are scored on the same gaps


class MaskedLanguageModelling(Task):
    name = "mlm"
    title = "Masked language modelling"
    help = ("Pretrain an encoder (BERT-style) by filling in hidden tokens; fine-tune it afterwards for "
            "classification or tagging. No next-sentence prediction: RoBERTa found it does not help.")
    columns = (Column("text", "Text", TEXT, ("text", "content", "document", "code"), "The text to learn from"),)
    auto_class = "AutoModelForMaskedLM"
    model_types = "MODEL_FOR_MASKED_LM_MAPPING_NAMES"
    shapes = ("encoder-only",)
    architectures = ("ForMaskedLM",)
    presets = ("bert-tiny", "bert-small")
    samples = ("sample:python-code",)
    headline = (Metric("eval_accuracy", "Masked accuracy", share=True),)
    playground = PlaygroundSpec(input_title="Text with masks", action="Fill In")
    command = Command("fill-mask", help="the likeliest tokens for each mask token in a text (masked LM)",
                      description="TEXT must hold the model's own mask token: [MASK] for BERT-style models Studio "
                                  "trains, <mask> for RoBERTa-style ones.",
                      options=(Setting("top_k", "int", 5, help="candidates per mask (5)", metavar="N"),),
                      json_help='print {"masks": [[{"token", "id", "score"}, ...], ...]}, one list per mask in order',
                      example="def add(a, b): [MASK] a + b")
    output = outputs.MASKS
    pipeline_tag = "fill-mask"
    length_title = "Block length"
    long_rows = "continue in the next block"
    settings = (
        Setting("mlm_probability", "float", 0.15, title="Masked share", low=0, high=1, above=True, below=True,
                hint="0.15 is usual", metavar="X", step=0.05,
                help="share of tokens the model must predict (0.15); of those 80% become the mask token, 10% a "
                     "random token, 10% stay"),
        Setting("whole_word_mask", "bool", False, title="Hide whole words",
                help="choose whole words to predict, all their pieces at once, not single pieces"))
    model_note = "an encoder with a masked-LM head (BERT, RoBERTa, ...) goes on pretraining"

    def encode(self, rows: Dataset, tokenizer: Any, columns: dict[str, str], config: TaskConfig, *, ordered: bool,
               progress: Progress | None = None, control: Control | None = None) -> tuple[Dataset, dict[str, Any]]:
        from studio.core.tasks.lm import blocks_of

        if tokenizer.mask_token_id is None:
            from studio.core.errors import ModelError

            raise ModelError("The tokenizer has no mask token, so nothing can be hidden for the model to fill in; "
                             "use a BERT-style tokenizer (a preset such as bert-tiny trains one).")
        blocks, stats = blocks_of(rows, tokenizer, columns["text"], config.seq_len, ordered=ordered,
                                  offsets=config["whole_word_mask"], progress=progress, control=control)
        return blocks, {"train": stats.as_dict()}

    def empty_split_hint(self, config: TaskConfig) -> str:
        return f"holds less than one block of {config.seq_len} tokens; lower --seq-len or add more text"

    def collator(self, tokenizer: Any, model: Any, config: TaskConfig) -> Any:
        return masking(tokenizer, config["mlm_probability"], config["whole_word_mask"])

    def metrics(self, tokenizer: Any, validation: EvalSet, info: Any) -> EvalMetrics:
        return MaskedAccuracy()

    def answer(self, loaded: Any, request: Request, *, on_token: OnToken | None = None,
               control: Control | None = None) -> Any:
        from studio.core.playground.fill_mask import fill

        return fill(loaded, request.text, top_k=request.options.get("top_k", 5))

    def evaluate(self, loaded: Any, ds: Dataset, columns: dict[str, str], *, ordered: bool = False,
                 progress: Progress | None = None, control: Control | None = None) -> dict[str, Any]:
        """Loss and top-1 accuracy on masked positions, the masks drawn with a fixed seed."""
        import torch

        from studio.core.errors import DataError
        from studio.core.tasks.lm import blocks_of

        whole_words = bool(loaded.settings.get("whole_word_mask"))
        blocks, _ = blocks_of(ds, loaded.tokenizer, columns["text"], loaded.input_limit, ordered=ordered,
                              offsets=whole_words, control=control)
        if len(blocks) == 0:
            raise DataError(f"The data holds less than one block of {loaded.input_limit} tokens; give it more text.")
        collate = masking(loaded.tokenizer, float(loaded.settings.get("mlm_probability") or 0.15), whole_words,
                          seed=_EVAL_SEED)
        rows = blocks.with_format(None)
        loss_sum, right, masked = 0.0, 0, 0
        for start in range(0, len(rows), _EVAL_BATCH):
            if control is not None:
                control.checkpoint()
            batch = collate([rows[i] for i in range(start, min(start + _EVAL_BATCH, len(rows)))])
            batch = {k: v.to(loaded.device) for k, v in batch.items()}
            with torch.inference_mode():
                out = loaded.model(**batch)
            chosen = batch["labels"] != -100
            n = int(chosen.sum())
            loss_sum += float(out.loss) * n
            right += int((out.logits.argmax(-1)[chosen] == batch["labels"][chosen]).sum())
            masked += n
            if progress is not None:
                progress(min(1.0, (start + _EVAL_BATCH) / len(rows)))
        return {"loss": loss_sum / max(1, masked), "accuracy": right / max(1, masked), "masked_tokens": masked,
                "block_length": loaded.input_limit}

    def describe_scores(self, scores: dict[str, Any]) -> list[str]:
        return [f"masked accuracy {scores['accuracy']:.4f}, loss {scores['loss']:.4f} on "
                f"{scores['masked_tokens']:,} masked tokens"]


def masking(tokenizer: Any, probability: float, whole_words: bool, seed: int | None = None) -> Any:
    from transformers import DataCollatorForLanguageModeling

    return DataCollatorForLanguageModeling(tokenizer, mlm_probability=probability, whole_word_mask=whole_words,
                                           seed=seed)


class MaskedAccuracy(EvalMetrics):
    """Top-1 accuracy on the masked positions. Logits are reduced to their argmax batch by batch: a
    validation set of 256 blocks of 128 tokens over a 4k vocabulary would be 0.5 GB of logits."""

    def preprocess(self, logits: Any, labels: Any) -> Any:
        return (logits[0] if isinstance(logits, tuple) else logits).argmax(dim=-1)

    def __call__(self, prediction: Any) -> dict[str, float]:
        import numpy as np

        predicted, labels = np.asarray(prediction.predictions), np.asarray(prediction.label_ids)
        chosen = labels != -100
        return {"accuracy": float((predicted[chosen] == labels[chosen]).mean()) if chosen.any() else 0.0}


TASK = MaskedLanguageModelling()
