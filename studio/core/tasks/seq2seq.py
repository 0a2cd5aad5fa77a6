"""What every encoder-decoder task shares: source -> target pairs encoded through the tokenizer's template
(`<s> x </s>` for BART, `x </s>` for T5) and truncated to their limits with the closing token kept, as
transformers' run_summarization does; padding left to the collator; evaluation by generating each target and
scoring it against the reference. Summarization and translation differ only in their columns, their score
(ROUGE; BLEU and chrF), their samples and the Playground's words, which is all their modules declare.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from studio.core.control import Control
from studio.core.playground import sampling
from studio.core.tasks.base import EvalMetrics, EvalSet, OnToken, Progress, Request, Task, TaskConfig

if TYPE_CHECKING:
    from datasets import Dataset

_EVAL_BATCH = 16
_EVAL_NEW_TOKENS = 64


class Seq2SeqTask(Task):
    """An encoder-decoder task; a subclass declares its columns and `score`."""

    auto_class = "AutoModelForSeq2SeqLM"
    peft_task_type = "SEQ_2_SEQ_LM"
    model_types = "MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES"
    shapes = ("encoder-decoder",)
    architectures = ("ForConditionalGeneration",)
    eval_generates = True
    writes_text = True
    length_title = "Source length"

    def score(self, generated: list[str], references: list[str]) -> dict[str, float]:
        """The task's metrics of generated targets against their references."""
        raise NotImplementedError

    def encode(self, rows: Dataset, tokenizer: Any, columns: dict[str, str], config: TaskConfig, *, ordered: bool,
               progress: Progress | None = None, control: Control | None = None) -> tuple[Dataset, dict[str, Any]]:
        import pyarrow as pa

        from studio.core.data import encoding

        source, target = columns["source"], columns["target"]
        advance = encoding.reporter(len(rows), progress, control)

        def tokenize(batch: pa.Table) -> pa.Table:
            sources, targets = batch.column(source).to_pylist(), batch.column(target).to_pylist()
            src, tgt = encoding.encode(tokenizer, sources), encoding.encode(tokenizer, targets, target=True)
            advance(len(src))
            return pa.table({
                "input_ids": encoding.list_array(encoding.cut(tokenizer, src, config.seq_len)),
                "labels": encoding.list_array(encoding.cut(tokenizer, tgt, config["target_len"], target=True)),
                "src_len": encoding.lengths(src), "tgt_len": encoding.lengths(tgt),
                "src_chars": encoding.characters(sources), "tgt_chars": encoding.characters(targets),
            })

        # a multilingual tokenizer frames targets by its target language, which its fingerprint does not show
        key = encoding.fingerprint(rows, tokenizer, source, target, config.seq_len, config["target_len"], "seq2seq",
                                   getattr(tokenizer, "tgt_lang", None))
        encoded = encoding.arrow_map(rows, tokenize, key, rows.column_names)
        stats = {"source": encoding.stats(encoding.int_column(encoded, "src_len"),
                                          encoding.column_sum(encoded, "src_chars"), config.seq_len).as_dict(),
                 "target": encoding.stats(encoding.int_column(encoded, "tgt_len"),
                                          encoding.column_sum(encoded, "tgt_chars"), config["target_len"]).as_dict()}
        return encoded.remove_columns(["src_len", "tgt_len", "src_chars", "tgt_chars"]), stats

    def sample_prompts(self, rows: Dataset, columns: dict[str, str], count: int) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        head = rows.select(range(min(len(rows), count * 4)))
        for source, target in zip(head[columns["source"]], head[columns["target"]]):
            if (source or "").strip():
                found.append((source, target or ""))
            if len(found) == count:
                break
        return found

    def collator(self, tokenizer: Any, model: Any, config: TaskConfig) -> Any:
        from transformers import DataCollatorForSeq2Seq

        return DataCollatorForSeq2Seq(tokenizer, model=model, label_pad_token_id=-100, pad_to_multiple_of=8)

    def tokens_in(self, batch: dict[str, Any]) -> int:
        return int(batch["attention_mask"].sum()) + int((batch["labels"] != -100).sum())

    def metrics(self, tokenizer: Any, validation: EvalSet, info: Any) -> EvalMetrics:
        return GeneratedMetrics(tokenizer, self.score)

    def length_limits(self, config: TaskConfig) -> tuple[int, int]:
        return config.seq_len, config["target_len"]

    def check_options(self, options: dict[str, Any]) -> None:
        sampling.Sampling.from_options(options).check()

    def adapt_model(self, model: Any, tokenizer: Any, config: TaskConfig) -> list[str]:
        first = begin_with_target_language(model, tokenizer)
        if first is None:
            return []
        return [f"Outputs begin with {tokenizer.convert_ids_to_tokens(first)}, the target language's code, as the "
                "model's multilingual training taught it."]

    def answer(self, loaded: Any, request: Request, *, on_token: OnToken | None = None,
               control: Control | None = None) -> Any:
        from studio.core.playground import generation

        begin_with_target_language(loaded.model, loaded.tokenizer)
        return generation.rewrite(loaded, request.text, sampling.Sampling.from_options(request.options),
                                  self.command.name, on_token=on_token, control=control,
                                  forced=request.options.get("forced"))

    def evaluate(self, loaded: Any, ds: Dataset, columns: dict[str, str], *, ordered: bool = False,
                 progress: Progress | None = None, control: Control | None = None) -> dict[str, Any]:
        """The task's score of the model's greedy target for every source against its reference."""
        import torch

        from studio.core.data import encoding
        from studio.core.modeling.batches import length_batches

        tok, model = loaded.tokenizer, loaded.model
        begin_with_target_language(model, tok)
        sources = [t or "" for t in ds[columns["source"]]]
        targets = [t or "" for t in ds[columns["target"]]]
        new_tokens = int(loaded.settings.get("target_len") or _EVAL_NEW_TOKENS)
        ids = encoding.encode(tok, sources, limit=loaded.input_limit)
        generated = [""] * len(ids)
        done = 0
        for chosen, batch, mask in length_batches(ids, _EVAL_BATCH, tok.pad_token_id):
            if control is not None:
                control.checkpoint()
            with torch.inference_mode():
                out = model.generate(input_ids=batch.to(loaded.device), attention_mask=mask.to(loaded.device),
                                     max_new_tokens=new_tokens, max_length=None, do_sample=False, num_beams=1)
            for row, text in zip(chosen, tok.batch_decode(out, skip_special_tokens=True)):
                generated[row] = text
            done += len(chosen)
            if progress is not None:
                progress(done / len(ids))
        return {**self.score(generated, targets), "rows": len(generated)}


def begin_with_target_language(model: Any, tokenizer: Any) -> int | None:
    """A multilingual model's decoder must be told which language to write: its first token is the target
    language's code (what `forced_bos_token_id` is for). That code is what the tokenizer puts at the start of a
    target and not of a source (NLLB, M2M100, mBART-50); a model with no such code is left as it is. The id
    the model begins with, if any."""
    from studio.core.data import encoding

    target, _ = encoding.frame(tokenizer, target=True)
    source, _ = encoding.frame(tokenizer)
    if not target or target == source or target[0] == tokenizer.unk_token_id:
        return None
    generation = model.generation_config
    if generation.forced_bos_token_id is None:
        generation.forced_bos_token_id = target[0]
    return generation.forced_bos_token_id


class GeneratedMetrics(EvalMetrics):
    """The task's score on the targets Seq2SeqTrainer generated for the (capped) validation split."""

    def __init__(self, tokenizer: Any, score: Callable[[list[str], list[str]], dict[str, float]]) -> None:
        self.tokenizer = tokenizer
        self.score = score

    def __call__(self, prediction: Any) -> dict[str, float]:
        import numpy as np

        preds, labels = prediction.predictions, prediction.label_ids
        if isinstance(preds, tuple):
            preds = preds[0]
        pad = self.tokenizer.pad_token_id
        generated = self.tokenizer.batch_decode(np.where(preds < 0, pad, preds), skip_special_tokens=True)
        references = self.tokenizer.batch_decode(np.where(labels < 0, pad, labels), skip_special_tokens=True)
        return self.score(generated, references)
