"""Everything a run needs before its first step: data, tokenizer, model and tokenized splits.

All of it is checked before a run folder is created, so bad input never leaves a half-made run behind.
The task decides what the data must hold, how rows become inputs and which head the model gets;
this module only puts the steps in order.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.core.control import Control
from studio.core.data import samples, sources
from studio.core.data.columns import map_columns
from studio.core.data.tokenizer import SMALL_PIECES, characters_per_token, load_tokenizer, pieces_note, train_bpe
from studio.core.errors import ConfigError, DataError, ModelError
from studio.core.hub import download
from studio.core.modeling import loading, lora, presets, shapes, vocabulary
from studio.core.runs import layout
from studio.core.system import gguf
from studio.core.system.quiet import quiet_transformers
from studio.core.tasks import registry
from studio.core.tasks.base import DataInfo, Task
from studio.core.training.config import RunConfig
from studio.core.training.events import Listener, Stage


@dataclass
class Prepared:
    config: RunConfig
    task: Task
    tokenizer: Any
    model: Any
    train: Any
    validation: Any
    validation_rows: Any  # the raw rows evaluated, in order (for reports that quote them)
    columns: dict[str, str]
    info: DataInfo
    stats: dict[str, Any]


def cli_controls() -> dict[str, str]:
    """Where a person picks each column on the command line, for error sentences."""
    return {c.role: c.flag for c in registry.column_roles()}


def check_model(c: RunConfig, task: Task) -> None:
    """Fail fast, before any data is read, if the chosen model cannot be trained for the task."""
    if presets.is_preset(c.model):
        return
    config = loading.load_config(layout.model_source(c.model), trust_remote_code=c.trust_remote_code)
    if task.accepts(config):
        task.check_model_config(config, c.task_config(), c.model)
        if c.lora and lora.targets(c.lora_targets) not in (None, lora.ALL_LINEAR):
            lora.check_targets(_skeleton(config, task.model_class(c.task_config()), c.trust_remote_code),
                               c.lora_targets)
        return
    kind = f"{shapes.shape(config)} {getattr(config, 'model_type', '')}".strip()
    try:
        fits = registry.for_model(config)
        hint = f"choose --task {fits.name} ({fits.title.lower()}) or another model"
    except ModelError:
        hint = "choose another model"
    raise ModelError(f"'{c.model}' is {_article(kind)} {kind} model, which cannot be trained for "
                     f"{task.title.lower()}; {hint}.")


def _skeleton(config: Any, model_class: str, trust_remote_code: bool) -> Any:
    """The model's layers without weights (on the meta device): enough to know their names, in no time."""
    import torch
    import transformers

    with torch.device("meta"):
        return getattr(transformers, model_class).from_config(config, trust_remote_code=trust_remote_code)


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


@dataclass
class Rows:
    """A run's data, checked by its task and split as every run of that data and seed splits it."""

    columns: dict[str, str]
    info: DataInfo
    train: Any
    validation: Any
    ordered: bool  # plain text, read in order (no shuffling)


def load_rows(c: RunConfig, task: Task, cache: Path, emit: Listener) -> Rows:
    emit(Stage("data", f"Loading {c.data}..."))
    if samples.is_sample(c.data):
        samples.sample_path(c.data, cache, progress=lambda m: emit(Stage("data", m)))
    source = sources.resolve(c.data, cache)
    ds = sources.load_resolved(source, cache)
    ordered = source.builder == "text"
    try:
        columns = map_columns(ds, task.columns, c.columns, cli_controls())
    except DataError as exc:
        fits = registry.suggest(ds)
        if fits is None or fits is task or c.columns:
            raise
        raise DataError(f"{exc} The columns fit {fits.title.lower()}: pass --task {fits.name} to train that.") from None
    ds, info = task.inspect(ds, columns, cli_controls())
    for warning in info.warnings:
        emit(Stage("data", warning))
    train, validation = task.split(ds, c.validation_fraction, c.seed, ordered=ordered)
    return Rows(columns, info, train, validation, ordered)


def prepare(c: RunConfig, cache: Path, emit: Listener, control: Control, *,
            tokenizer_dir: Path | None = None, device: str = "cpu") -> Prepared:
    """Load and tokenize the data and build the model; `tokenizer_dir` reuses a run's own tokenizer."""
    task = registry.get(c.task)
    note = gguf.import_note(Path(c.model)) if gguf.is_gguf(c.model) else None
    if note:
        emit(Stage("model", note))
        # here rather than on first use, so the monitor shows how far it is and Stop stops it; one message
        # for the whole import, so a terminal prints a line a second rather than one per tensor
        importing = f"Importing {Path(c.model).name}..."
        gguf.imported(Path(c.model), progress=lambda fraction, _: emit(Stage("model", importing, fraction)),
                      control=control)
    if loading.is_hub_id(c.model) and not presets.is_preset(c.model):
        fetching = f"Downloading {c.model}..."  # one message, so a terminal prints a line a second
        download.ensure(c.model, lambda p: emit(Stage("model", fetching, p.done / max(1, p.total))), control)
    check_model(c, task)
    rows = load_rows(c, task, cache, emit)
    task.check_data(rows.info, c.task_config())
    columns, info, ordered, train_rows, val_rows = rows.columns, rows.info, rows.ordered, rows.train, rows.validation
    control.checkpoint()

    tokenizer = _tokenizer(c, task, train_rows, columns, emit, control, tokenizer_dir)
    words = _grow_vocabulary(c, task, tokenizer, train_rows, columns, emit) if tokenizer_dir is None else {}
    settings = c.task_config()
    for note in task.adapt_tokenizer(tokenizer, settings, c.model):
        emit(Stage("tokenizer", note))
    from datasets import concatenate_datasets

    task.preflight(concatenate_datasets([train_rows, val_rows]), tokenizer, columns, settings)
    emit(Stage("model", f"Building {c.model}..."))
    model, notes, decided = _model(c, task, tokenizer, info, device, train_rows, columns, words)
    if decided:
        c = dataclasses.replace(c, options={**c.options, **decided})
        settings = c.task_config()
    for note in [*notes, *task.adapt_model(model, tokenizer, settings)]:
        emit(Stage("model", note))
    control.checkpoint()

    def report(name: str) -> Any:
        return lambda f: emit(Stage("tokenize", f"Tokenizing the {name} split...", f))

    train, stats = task.encode(train_rows, tokenizer, columns, settings, ordered=ordered,
                               progress=report("training"), control=control)
    val, _ = task.encode(val_rows, tokenizer, columns, settings, ordered=ordered, progress=report("validation"),
                         control=control)
    for note in stats.pop("notes", []):
        emit(Stage("tokenize", note))
    for name, split in (("training", train), ("validation", val)):
        if len(split) == 0:
            raise DataError(f"The {name} split {task.empty_split_hint(settings)}.")
    val_rows, val = task.cap_validation(val_rows, val, c.eval_rows)
    stats.update(train_rows=len(train), validation_rows=len(val), **info.values)
    return Prepared(c, task, tokenizer, model, train, val, val_rows, columns, info, stats)


def _tokenizer(c: RunConfig, task: Task, rows: Any, columns: dict[str, str], emit: Listener, control: Control,
               run_tokenizer: Path | None) -> Any:
    if run_tokenizer is not None:
        return load_tokenizer(run_tokenizer)
    if c.tokenizer:
        emit(Stage("tokenizer", f"Loading the tokenizer {c.tokenizer}..."))
        return load_tokenizer(c.tokenizer, trust_remote_code=c.trust_remote_code)
    if not presets.is_preset(c.model):
        emit(Stage("tokenizer", f"Loading the tokenizer of {c.model}..."))
        return load_tokenizer(layout.model_source(c.model), trust_remote_code=c.trust_remote_code)
    names = task.tokenizer_texts(columns)
    total = len(rows) * len(names)
    emit(Stage("tokenizer", f"Training a {c.vocab_size}-token BPE tokenizer...", 0.0))
    tokenizer = train_bpe(sources.iter_texts(rows, names), c.vocab_size, family=presets.family(c.model),
                          total=total, control=control,
                          progress=lambda f: emit(Stage("tokenizer", "Reading text for the tokenizer...", f)))
    return tokenizer


def _grow_vocabulary(c: RunConfig, task: Task, tokenizer: Any, rows: Any, columns: dict[str, str],
                     emit: Listener) -> dict[str, list[int]]:
    """A borrowed tokenizer (a fine-tune's) that cuts the data into small pieces is said, and given the data's
    frequent words (see modeling.vocabulary); the words added, with the pieces each was cut into."""
    if not c.tokenizer and presets.is_preset(c.model):
        return {}  # a preset's tokenizer is trained on this data

    def texts() -> Any:
        return sources.iter_texts(rows, task.tokenizer_texts(columns))

    per_token = characters_per_token(tokenizer, texts())
    if per_token is None or per_token >= SMALL_PIECES:
        return {}
    words = vocabulary.spelled_out(tokenizer, texts()) if c.new_words == "auto" and task.grows_vocabulary else {}
    vocabulary.add_words(tokenizer, words)
    emit(Stage("tokenizer", pieces_note(per_token, c.tokenizer or c.model, list(words))))
    return words


def _model(c: RunConfig, task: Task, tokenizer: Any, info: DataInfo, device: str, train_rows: Any,
           columns: dict[str, str], words: dict[str, list[int]]) -> tuple[Any, list[str], dict[str, Any]]:
    """The model, sentences about it, and the settings its task decided on measuring it against the data;
    `words` added to the tokenizer start as the mean of their pieces."""
    from transformers import set_seed

    settings = task.model_settings(info)
    model_class = task.model_class(c.task_config())
    # the initial weights (a preset's, a new head's, LoRA's adapters) follow the run's seed, not whatever ran
    # before in this process: the same run trains the same, alone or after others
    set_seed(c.seed)
    if presets.is_preset(c.model):
        model = presets.build(c.model, tokenizer, model_class, **settings)
        notes, decided = task.fit_to_data(model, tokenizer, train_rows, columns, c.task_config(), pretrained=False)
        return model, notes, decided
    with quiet_transformers():  # its load report and progress bar; the fresh head is reported as a sentence
        model, fresh = loading.load_pretrained(layout.model_source(c.model), model_class,
                                               trust_remote_code=c.trust_remote_code, device=device,
                                               quantization=lora.quantization() if c.qlora else None, **settings)
    limit = loading.max_positions(model.config)
    if limit and c.seq_len > limit:
        raise ConfigError(f"{c.model} reads at most {limit} tokens at a time; lower --seq-len to {limit} or less.")
    rows = model.get_input_embeddings().num_embeddings
    added = list(range(rows, len(tokenizer)))  # tokens the checkpoint has no embedding for (a template's markers)
    if added:
        with quiet_transformers():  # its note on how new rows start: the words' are set below, the markers' learn
            model.resize_token_embeddings(len(tokenizer))
        vocabulary.start_embeddings(model, tokenizer, words)
    if model.config.pad_token_id is None and tokenizer.pad_token_id is not None:
        model.config.pad_token_id = tokenizer.pad_token_id  # GPT-2 classifiers find the last token by padding
    note = task.fresh_head_note(fresh)
    notes = [note] if note else []
    fitted, decided = task.fit_to_data(model, tokenizer, train_rows, columns, c.task_config(), pretrained=True,
                                       adapters=c.lora)
    notes += fitted
    if c.qlora:
        model = lora.prepare_quantized(model, c.gradient_checkpointing)
    if c.lora:
        model = lora.wrap(model, **c.adapters(), fresh=fresh, new_tokens=added)
        total, trainable = lora.parameter_counts(model)
        also = f", the {len(added)} new tokens' embeddings among them" if added else ""
        notes.append(f"LoRA: {trainable:,} of {total:,} parameters train ({trainable / total:.2%}{also}); the rest "
                     f"keep the values {c.model} has.")
    return model, notes, decided
