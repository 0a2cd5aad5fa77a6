"""Masked language modelling (BERT-style pretraining): learn to fill in hidden tokens; masked-token
accuracy; the Playground fills in the mask token.

Rows follow transformers' run_mlm recipe: each is encoded through the tokenizer's template
(`[CLS] text [SEP]`), then all are concatenated and cut into blocks of `seq_len`; the library's
`DataCollatorForLanguageModeling` chooses 15% of the tokens (never the template's), and replaces 80%
of those by the mask token, 10% by a random token and leaves 10%.

With `nsp`, the run trains BERT's second objective as well: rows become sentence pairs (`[CLS] A [SEP] B [SEP]`
with token types, see data.sentence_pairs), half of them consecutive, and the model's pretraining heads
(`BertForPreTraining`) learn to fill the masks and to tell whether B follows A. RoBERTa (Liu et al., 2019)
found that dropping next-sentence prediction matches or improves downstream results; training both ways
and comparing the runs shows it on a person's own data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from studio.core.control import Control
from studio.core.data.columns import TEXT, Column
from studio.core.errors import ConfigError
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
    help = ("Pretrain an encoder (BERT-style) by filling in hidden tokens, with BERT's next-sentence prediction "
            "if you ask (RoBERTa found it does not help: train both and compare); fine-tune it afterwards for "
            "classification or tagging.")
    columns = (Column("text", "Text", TEXT, ("text", "content", "document", "code"), "The text to learn from"),)
    auto_class = "AutoModelForMaskedLM"
    model_types = "MODEL_FOR_MASKED_LM_MAPPING_NAMES"
    shapes = ("encoder-only",)
    architectures = ("ForMaskedLM", "ForPreTraining")
    presets = ("bert-tiny", "bert-small")
    samples = ("sample:python-code",)
    headline = (Metric("eval_accuracy", "Masked accuracy", share=True),)
    next_sentence = Metric("eval_nsp_accuracy", "Next-sentence accuracy", share=True, short="NSP")
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
                help="choose whole words to predict, all their pieces at once, not single pieces"),
        Setting("nsp", "bool", False, title="Next-sentence prediction",
                help="also learn whether the second of two sentences follows the first (BERT's pretraining; "
                     "RoBERTa found it does not help, so compare a run with and one without)"))
    model_note = "an encoder with a masked-LM head (BERT, RoBERTa, ...) goes on pretraining"

    def model_class(self, config: TaskConfig) -> str:
        return "AutoModelForPreTraining" if config["nsp"] else self.auto_class

    def headline_of(self, settings: dict[str, Any]) -> tuple[Metric, ...]:
        return (*self.headline, self.next_sentence) if settings.get("nsp") else self.headline

    def check_settings(self, config: TaskConfig) -> None:
        if config["nsp"] and config["whole_word_mask"]:
            raise ConfigError("--whole-word-mask hides words of one text, and --nsp reads sentence pairs; give one "
                              "of them.")

    def check_model_config(self, model_config: Any, config: TaskConfig, model: str) -> None:
        """A model whose pretraining class has no next-sentence head (RoBERTa, DistilBERT, ELECTRA) cannot
        learn --nsp: transformers has no such head for it to add."""
        if not config["nsp"]:
            return
        import inspect

        import transformers
        from transformers.models.auto import modeling_auto

        name = modeling_auto.MODEL_FOR_PRETRAINING_MAPPING_NAMES.get(getattr(model_config, "model_type", ""), "")
        found = getattr(transformers, name, None) if name else None
        if found is None or "next_sentence_label" not in inspect.signature(found.forward).parameters:
            raise ConfigError(f"{model} is a {getattr(model_config, 'model_type', 'model')} model, which has no "
                              "next-sentence head in transformers; drop --nsp, or pretrain a BERT-family model "
                              "(a preset such as bert-tiny, or bert-base-uncased).")

    def encode(self, rows: Dataset, tokenizer: Any, columns: dict[str, str], config: TaskConfig, *, ordered: bool,
               progress: Progress | None = None, control: Control | None = None) -> tuple[Dataset, dict[str, Any]]:
        from studio.core.tasks.lm import blocks_of

        if tokenizer.mask_token_id is None:
            from studio.core.errors import ModelError

            raise ModelError("The tokenizer has no mask token, so nothing can be hidden for the model to fill in; "
                             "use a BERT-style tokenizer (a preset such as bert-tiny trains one).")
        if config["nsp"]:
            from studio.core.data.sentence_pairs import pairs_of

            pairs, stats = pairs_of(rows, tokenizer, columns["text"], config.seq_len, config.seed, ordered=ordered,
                                    progress=progress, control=control)
            return pairs, {"train": stats.as_dict()}
        blocks, stats = blocks_of(rows, tokenizer, columns["text"], config.seq_len, ordered=ordered,
                                  offsets=config["whole_word_mask"], progress=progress, control=control)
        return blocks, {"train": stats.as_dict()}

    def empty_split_hint(self, config: TaskConfig) -> str:
        if config["nsp"]:
            return "holds no two sentences to pair; give rows of several sentences or lines"
        return f"holds less than one block of {config.seq_len} tokens; lower --seq-len or add more text"

    def collator(self, tokenizer: Any, model: Any, config: TaskConfig) -> Any:
        return masking(tokenizer, config["mlm_probability"], config["whole_word_mask"])

    def metrics(self, tokenizer: Any, validation: EvalSet, info: Any) -> EvalMetrics:
        return MaskedAccuracy(next_sentence="next_sentence_label" in validation.features.column_names)

    def answer(self, loaded: Any, request: Request, *, on_token: OnToken | None = None,
               control: Control | None = None) -> Any:
        from studio.core.playground.fill_mask import fill

        return fill(loaded, request.text, top_k=request.options.get("top_k", 5))

    def evaluate(self, loaded: Any, ds: Dataset, columns: dict[str, str], *, ordered: bool = False,
                 progress: Progress | None = None, control: Control | None = None) -> dict[str, Any]:
        """Loss and top-1 accuracy on masked positions, the masks drawn with a fixed seed; for a model pretrained
        with next-sentence prediction, on sentence pairs drawn with a fixed seed, with its NSP accuracy too."""

        from studio.core.errors import DataError
        from studio.core.tasks.lm import blocks_of

        if loaded.settings.get("nsp"):
            return _evaluate_pairs(loaded, ds, columns, ordered=ordered, progress=progress, control=control)
        whole_words = bool(loaded.settings.get("whole_word_mask"))
        blocks, _ = blocks_of(ds, loaded.tokenizer, columns["text"], loaded.input_limit, ordered=ordered,
                              offsets=whole_words, control=control)
        if len(blocks) == 0:
            raise DataError(f"The data holds less than one block of {loaded.input_limit} tokens; give it more text.")
        collate = masking(loaded.tokenizer, float(loaded.settings.get("mlm_probability") or 0.15), whole_words,
                          seed=_EVAL_SEED)
        scores = _masked_scores(loaded.model, blocks.with_format(None), collate, loaded.device, progress, control)
        return {**scores, "block_length": loaded.input_limit}

    def describe_scores(self, scores: dict[str, Any]) -> list[str]:
        lines = [f"masked accuracy {scores['accuracy']:.4f}, loss {scores['loss']:.4f} on "
                 f"{scores['masked_tokens']:,} masked tokens"]
        if "nsp_accuracy" in scores:
            lines.append(f"next-sentence accuracy {scores['nsp_accuracy']:.4f} on {scores['pairs']:,} sentence pairs "
                         "(half of them consecutive: 0.5 is a guess)")
        return lines


def _evaluate_pairs(loaded: Any, ds: Dataset, columns: dict[str, str], *, ordered: bool, progress: Progress | None,
                    control: Control | None) -> dict[str, Any]:
    """Both pretraining heads on pairs drawn as in training. The model in use is the masked LM; the saved model's
    next-sentence head is loaded beside it for this (a person uses the model to fill masks, not to judge pairs)."""

    from studio.core.data.sentence_pairs import pairs_of
    from studio.core.errors import DataError
    from studio.core.modeling import loading

    pairs, _ = pairs_of(ds, loaded.tokenizer, columns["text"], loaded.input_limit, _EVAL_SEED, ordered=ordered,
                        control=control)
    if len(pairs) == 0:
        raise DataError("The data holds no two sentences to pair; give rows of several sentences or lines.")
    model, _ = loading.load_pretrained(loaded.source, "AutoModelForPreTraining")
    model.to(loaded.device).eval()
    collate = masking(loaded.tokenizer, float(loaded.settings.get("mlm_probability") or 0.15), False, seed=_EVAL_SEED)
    scores = _masked_scores(model, pairs, collate, loaded.device, progress, control)
    return {**scores, "pairs": len(pairs), "block_length": loaded.input_limit}


def _masked_scores(model: Any, rows: Any, collate: Any, device: str, progress: Progress | None,
                   control: Control | None) -> dict[str, Any]:
    """Loss and top-1 accuracy over the masked positions of `rows`, batch by batch; with next-sentence labels
    in the rows (a pretraining model), the share of pairs the model judged right too."""
    import torch

    loss_sum, right, masked, judged = 0.0, 0, 0, 0
    for start in range(0, len(rows), _EVAL_BATCH):
        if control is not None:
            control.checkpoint()
        batch = collate([rows[i] for i in range(start, min(start + _EVAL_BATCH, len(rows)))])
        batch = {k: v.to(device) for k, v in batch.items()}
        labels, next_sentence = batch.pop("labels"), batch.pop("next_sentence_label", None)
        with torch.inference_mode():
            out = model(**batch)
        logits = out.prediction_logits if next_sentence is not None else out.logits
        chosen = labels != -100
        loss_sum += float(torch.nn.functional.cross_entropy(logits[chosen], labels[chosen], reduction="sum"))
        right += int((logits.argmax(-1)[chosen] == labels[chosen]).sum())
        masked += int(chosen.sum())
        if next_sentence is not None:
            judged += int((out.seq_relationship_logits.argmax(-1) == next_sentence).sum())
        if progress is not None:
            progress(min(1.0, (start + _EVAL_BATCH) / len(rows)))
    scores = {"loss": loss_sum / max(1, masked), "accuracy": right / max(1, masked), "masked_tokens": masked}
    return {**scores, "nsp_accuracy": judged / len(rows)} if next_sentence is not None else scores


def masking(tokenizer: Any, probability: float, whole_words: bool, seed: int | None = None) -> Any:
    from transformers import DataCollatorForLanguageModeling

    return DataCollatorForLanguageModeling(tokenizer, mlm_probability=probability, whole_word_mask=whole_words,
                                           seed=seed)


class MaskedAccuracy(EvalMetrics):
    """Top-1 accuracy on the masked positions, and with next-sentence prediction the share of pairs judged
    right. Logits are reduced to their argmax batch by batch: a validation set of 256 blocks of 128 tokens
    over a 4k vocabulary would be 0.5 GB of logits."""

    def __init__(self, next_sentence: bool = False) -> None:
        self.next_sentence = next_sentence

    def preprocess(self, logits: Any, labels: Any) -> Any:
        if self.next_sentence:  # BertForPreTraining's (prediction_logits, seq_relationship_logits)
            return logits[0].argmax(dim=-1), logits[1].argmax(dim=-1)
        return (logits[0] if isinstance(logits, tuple) else logits).argmax(dim=-1)

    def __call__(self, prediction: Any) -> dict[str, float]:
        import numpy as np

        predicted, labels = prediction.predictions, prediction.label_ids
        out = {}
        if self.next_sentence:
            predicted, sentence = predicted
            labels, sentence_labels = labels
            out["nsp_accuracy"] = float((np.asarray(sentence) == np.asarray(sentence_labels)).mean())
        predicted, labels = np.asarray(predicted), np.asarray(labels)
        chosen = labels != -100
        return {"accuracy": float((predicted[chosen] == labels[chosen]).mean()) if chosen.any() else 0.0, **out}


TASK = MaskedLanguageModelling()
