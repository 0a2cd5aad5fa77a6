"""Everything a run needs before its first step: data, tokenizer, model and tokenized splits.

All of it is checked before a run folder is created, so bad input never leaves a half-made run behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.core.data import sources as data
from studio.core.modeling import models
from studio.core.data import encoding as preprocess
from studio.core.data import samples
from studio.core.training.config import RunConfig
from studio.core.control import Control
from studio.core.errors import ConfigError, DataError
from studio.core.data.tokenizer import load_tokenizer, train_bpe
from studio.core.training.events import Listener, Stage


@dataclass
class Prepared:
    config: RunConfig
    tokenizer: Any
    model: Any
    train: Any
    validation: Any
    stats: dict[str, Any]
    tokenizer_trained: bool


def prepare(c: RunConfig, cache: Path, emit: Listener, control: Control, *,
            tokenizer_dir: Path | None = None) -> Prepared:
    """Load and tokenize the data and build the model; `tokenizer_dir` reuses a run's own tokenizer."""
    if not models.is_preset(c.model):
        models.check_model(c.model, c.task, trust_remote_code=c.trust_remote_code)
    emit(Stage("data", f"Loading {c.data}..."))
    if samples.is_sample(c.data):
        samples.sample_path(c.data, cache, progress=lambda m: emit(Stage("data", m)))
    source = data.resolve(c.data, cache)
    ds = data.load_resolved(source, cache)
    lines = source.builder == "text"
    columns = data.map_columns(ds, c.task, data.ColumnMap(c.text_column or None, c.source_column or None,
                                                          c.target_column or None))
    train_rows, val_rows = data.split(ds, c.validation_fraction, c.seed, shuffle=not lines)
    control.checkpoint()

    tokenizer, trained = _tokenizer(c, train_rows, columns, emit, control, tokenizer_dir)
    emit(Stage("model", f"Building {c.model}..."))
    model = _model(c, tokenizer)
    control.checkpoint()

    def report(name: str) -> Any:
        return lambda f: emit(Stage("tokenize", f"Tokenizing the {name} split...", f))

    if c.task == "lm":
        train, train_stats = preprocess.prepare_lm(train_rows, tokenizer, columns.text, c.seq_len, lines=lines,
                                                   progress=report("training"), control=control)
        val, _ = preprocess.prepare_lm(val_rows, tokenizer, columns.text, c.seq_len, lines=lines,
                                       progress=report("validation"), control=control)
        stats = {"train": train_stats.as_dict()}
    else:
        train, src, tgt = preprocess.prepare_seq2seq(train_rows, tokenizer, columns.source, columns.target,
                                                     c.seq_len, c.target_len, progress=report("training"),
                                                     control=control)
        val, _, _ = preprocess.prepare_seq2seq(val_rows, tokenizer, columns.source, columns.target, c.seq_len,
                                               c.target_len, progress=report("validation"), control=control)
        stats = {"source": src.as_dict(), "target": tgt.as_dict()}
    if len(train) == 0:
        raise DataError(f"The training split holds less than one block of {c.seq_len} tokens; lower --seq-len "
                        "or add more text.")
    if len(val) == 0:
        raise DataError(f"The validation split holds less than one block of {c.seq_len} tokens; raise "
                        "validation_fraction, lower --seq-len or add more text.")
    val = val.select(range(min(len(val), c.eval_rows)))
    stats.update(train_rows=len(train), validation_rows=len(val))
    return Prepared(c, tokenizer, model, train, val, stats, trained)


def _tokenizer(c: RunConfig, rows: Any, columns: data.ColumnMap, emit: Listener, control: Control,
               run_tokenizer: Path | None) -> tuple[Any, bool]:
    if run_tokenizer is not None:
        return load_tokenizer(run_tokenizer), False
    if c.tokenizer:
        emit(Stage("tokenizer", f"Loading the tokenizer {c.tokenizer}..."))
        return load_tokenizer(c.tokenizer, trust_remote_code=c.trust_remote_code), False
    if not models.is_preset(c.model):
        emit(Stage("tokenizer", f"Loading the tokenizer of {c.model}..."))
        return load_tokenizer(c.model, trust_remote_code=c.trust_remote_code), False
    names = [columns.text] if columns.text else [columns.source, columns.target]
    total = len(rows) * len(names)
    emit(Stage("tokenizer", f"Training a {c.vocab_size}-token BPE tokenizer...", 0.0))
    tokenizer = train_bpe(data.iter_texts(rows, names), c.vocab_size, total=total, control=control,
                          progress=lambda f: emit(Stage("tokenizer", "Reading text for the tokenizer...", f)))
    return tokenizer, True


def _model(c: RunConfig, tokenizer: Any) -> Any:
    if models.is_preset(c.model):
        from transformers import set_seed

        set_seed(c.seed)  # the initial weights follow the run's seed, not whatever ran before in this process
        return models.build_preset(c.model, tokenizer)
    model = models.load_pretrained(c.model, c.task, trust_remote_code=c.trust_remote_code)
    limit = models.max_positions(model.config)
    if limit and c.seq_len > limit:
        raise ConfigError(f"{c.model} reads at most {limit} tokens at a time; lower --seq-len to {limit} or less.")
    if len(tokenizer) > model.get_input_embeddings().num_embeddings:
        model.resize_token_embeddings(len(tokenizer))
    return model

