"""Language modelling (GPT-style): learn to continue text; perplexity; the Playground continues a prompt.

Rows follow transformers' run_clm recipe: each is encoded through the tokenizer's template and ended
with `</s>`, then all are concatenated and cut into blocks of `seq_len`, so no step is spent on padding.
Lines of a .txt file are lines of one text instead: each keeps the newline `datasets` took off, and no
template or end token goes between them.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from studio.core.control import Control
from studio.core.data.columns import TEXT, Column
from studio.core.playground import sampling
from studio.core.tasks import outputs
from studio.core.tasks.base import Command, Metric, OnToken, PlaygroundSpec, Progress, Request, Task, TaskConfig

if TYPE_CHECKING:
    from datasets import Dataset

_EVAL_BATCH = 8
_SAMPLE_MIN_CHARS = 16  # shorter texts leave too little to continue
_SAMPLE_PROMPT_CHARS = 200  # a whole file is a row of some data: its start is prompt enough
_SAMPLE_REFERENCE_CHARS = 160


class LanguageModelling(Task):
    name = "lm"
    title = "Language modelling"
    help = "Learn to continue text (GPT-style); the Playground continues your prompt."
    columns = (Column("text", "Text", TEXT, ("text", "content", "document", "code"),
                      "The text to learn to continue"),)
    auto_class = "AutoModelForCausalLM"
    peft_task_type = "CAUSAL_LM"
    model_types = "MODEL_FOR_CAUSAL_LM_MAPPING_NAMES"
    shapes = ("decoder-only",)
    architectures = ("ForCausalLM", "LMHeadModel")
    presets = ("gpt-tiny", "gpt-small", "llama-tiny", "llama-small")
    samples = ("sample:python-code",)
    headline = (Metric("eval_perplexity", "Perplexity", higher_is_better=False),)
    playground = PlaygroundSpec(input_title="Prompt", action="Generate", echo_input=True)
    command = Command("generate", help="continue a prompt with a trained language model (streams tokens)",
                      text_flag="--prompt", options=sampling.options(beams=1, max_new=64),
                      json_help="print text, tokens with log-probabilities, tokens/s",
                      example="def add(a, b):")
    output = outputs.TEXT
    pipeline_tag = "text-generation"
    writes_text = True
    length_title = "Block length"
    long_rows = "continue in the next block"
    model_note = "a decoder-only model (GPT-2, Llama, ...) continues training as a language model"

    def encode(self, rows: Dataset, tokenizer: Any, columns: dict[str, str], config: TaskConfig, *, ordered: bool,
               progress: Progress | None = None, control: Control | None = None) -> tuple[Dataset, dict[str, Any]]:
        blocks, stats = blocks_of(rows, tokenizer, columns["text"], config.seq_len, ordered=ordered,
                                  progress=progress, control=control)
        return blocks, {"train": stats.as_dict()}

    def sample_prompts(self, rows: Dataset, columns: dict[str, str], count: int) -> list[tuple[str, str]]:
        """Up to 200 characters of a text ending two fifths in, to continue, and what follows for reference.
        A text of several lines is cut at whole lines (a file's first lines are often its licence: the
        middle is what the model mostly reads); one line is cut after a word."""
        found: list[tuple[str, str]] = []
        for text in rows.select(range(min(len(rows), 500)))[columns["text"]]:
            text = (text or "").strip()
            if len(text) < _SAMPLE_MIN_CHARS:
                continue
            point = len(text) * 2 // 5
            end = text.rfind("\n", 0, point + 1)
            if end > 0:
                begin = text.find("\n", max(0, end - _SAMPLE_PROMPT_CHARS)) + 1 if end > _SAMPLE_PROMPT_CHARS else 0
                prompt = text[begin:end + 1]
            else:
                end = text.rfind(" ", 0, min(point, _SAMPLE_PROMPT_CHARS) + 1)
                end = end if end > 0 else len(text) // 2
                prompt = text[:end]
            if not prompt.strip():
                continue
            found.append((prompt, text[end:end + _SAMPLE_REFERENCE_CHARS].strip()))
            if len(found) == count:
                break
        return found

    def empty_split_hint(self, config: TaskConfig) -> str:
        return f"holds less than one block of {config.seq_len} tokens; lower --seq-len or add more text"

    def collator(self, tokenizer: Any, model: Any, config: TaskConfig) -> BlockCollator:
        return BlockCollator()

    def derived(self, values: dict[str, float]) -> dict[str, float]:
        return {"eval_perplexity": perplexity(values["eval_loss"])} if "eval_loss" in values else {}

    def check_options(self, options: dict[str, Any]) -> None:
        sampling.Sampling.from_options(options).check()

    def answer(self, loaded: Any, request: Request, *, on_token: OnToken | None = None,
               control: Control | None = None) -> Any:
        from studio.core.playground import generation

        return generation.generate(loaded, request.text, sampling.Sampling.from_options(request.options),
                                   on_token=on_token, control=control, forced=request.options.get("forced"))

    def evaluate(self, loaded: Any, ds: Dataset, columns: dict[str, str], *, ordered: bool = False,
                 progress: Progress | None = None, control: Control | None = None) -> dict[str, Any]:
        """Mean next-token loss over blocks of the length the model was trained on, and its perplexity."""
        import numpy as np
        import torch

        length = loaded.input_limit
        blocks, _ = blocks_of(ds, loaded.tokenizer, columns["text"], length, ordered=ordered, control=control)
        if len(blocks) == 0:
            from studio.core.errors import DataError

            raise DataError(f"The data holds less than one block of {length} tokens; give it more text.")
        ids = blocks.with_format("numpy")["input_ids"]
        total, count = 0.0, 0
        for start in range(0, len(ids), _EVAL_BATCH):
            if control is not None:
                control.checkpoint()
            batch = torch.as_tensor(np.asarray(ids[start:start + _EVAL_BATCH]), dtype=torch.long,
                                    device=loaded.device)
            with torch.inference_mode():
                loss = loaded.model(input_ids=batch, labels=batch).loss.item()
            predicted = batch.shape[0] * (batch.shape[1] - 1)
            total, count = total + loss * predicted, count + predicted
            if progress is not None:
                progress(min(1.0, (start + len(batch)) / len(ids)))
        loss = total / count
        return {"loss": loss, "perplexity": perplexity(loss), "tokens": count, "block_length": length}


def perplexity(loss: float) -> float:
    """exp(loss), capped where a model that has learned nothing would overflow it."""
    return math.exp(min(loss, 50.0))


def blocks_of(ds: Dataset, tokenizer: Any, column: str, seq_len: int, *, ordered: bool = False, offsets: bool = False,
              progress: Progress | None = None, control: Control | None = None) -> tuple[Dataset, Any]:
    """Blocks of `seq_len` token ids (`input_ids`) and statistics of the rows they came from.

    With `offsets`, each block also has every token's character span in its row (`offset_mapping`), which
    whole-word masking reads to find where words begin.
    """
    import pyarrow as pa

    from studio.core.data import encoding

    eos = tokenizer.eos_token_id
    _, closing = encoding.frame(tokenizer)
    tail = None if ordered or (closing and closing[-1] == eos) else eos
    advance = encoding.reporter(len(ds), progress, control)

    def tokenize(batch: pa.Table) -> pa.Table:
        texts = batch.column(column).to_pylist()
        if ordered:
            texts = [(t or "") + "\n" for t in texts]
        out = {"chars": encoding.characters(texts)}
        if offsets:
            ids, spans = encoding.encode_with_offsets(tokenizer, texts, specials=not ordered)
            end = [0, 0] if tail is not None else []  # the appended end token spans nothing
            out["spans"] = encoding.list_array([[x for pair in s for x in pair] + end for s in spans])
        else:
            ids = encoding.encode(tokenizer, texts, specials=not ordered)
        advance(len(texts))
        return pa.table({"ids": encoding.list_array(ids, tail=tail), **out})

    key = encoding.fingerprint(ds, tokenizer, column, ordered, offsets, "lm")
    encoded = encoding.arrow_map(ds, tokenize, key, ds.column_names)
    row_stats = encoding.stats(encoding.list_lengths(encoded, "ids"), encoding.column_sum(encoded, "chars"), seq_len)

    def group(batch: pa.Table) -> pa.Table:
        flat = batch.column("ids").combine_chunks().flatten().to_numpy()
        usable = (len(flat) // seq_len) * seq_len
        out = {"input_ids": pa.FixedSizeListArray.from_arrays(pa.array(flat[:usable]), seq_len)}
        if offsets:
            spans = batch.column("spans").combine_chunks().flatten().to_numpy()[:2 * usable]
            pairs = pa.FixedSizeListArray.from_arrays(pa.array(spans), 2)
            out["offset_mapping"] = pa.FixedSizeListArray.from_arrays(pairs, seq_len)
        return pa.table(out)

    blocks = encoding.arrow_map(encoded, group, encoding.fingerprint(encoded, tokenizer, seq_len, offsets, "group"),
                                encoded.column_names)
    return blocks, row_stats


class BlockCollator:
    """Stack equal-length blocks; labels are the inputs (the model shifts them).

    Written by hand because every block is exactly `seq_len` long: the library collators would pad,
    mask and copy for nothing on every step.
    """

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, Any]:
        import torch

        ids = torch.tensor([f["input_ids"] for f in features], dtype=torch.long)
        return {"input_ids": ids, "labels": ids}


TASK = LanguageModelling()
