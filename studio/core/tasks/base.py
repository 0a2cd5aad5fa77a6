"""What a task is: everything Studio needs to know to train, use, evaluate and show models of one kind.

Each task is one module with one `Task` instance, in this package or in another installed package (an
entry point in the group `studio.tasks`); `registry` lists them. The rest of Studio asks a task, never
compares task names: the command line's flags and commands, the wizard and the Data panel, the engine's
inputs and metrics, the monitor's headline curves and the Playground's view all come from these
declarations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from studio.core.control import Control
from studio.core.data import sources
from studio.core.data.columns import Column
from studio.core.settings import Setting
from studio.core.tasks.outputs import OutputKind

if TYPE_CHECKING:
    from datasets import Dataset

Progress = Callable[[float], None]
OnToken = Callable[[Any], None]


@dataclass(frozen=True)
class Metric:
    """A number the task reports at every evaluation, by its name in the run store."""

    name: str  # e.g. "eval_accuracy"
    title: str  # e.g. "Accuracy"
    higher_is_better: bool = True
    share: bool = False  # a fraction shown as a percentage
    short: str = ""  # its name on a terminal's progress line, where the title is too long


@dataclass(frozen=True)
class PlaygroundSpec:
    """What the Playground shows for a model of the task (its view follows the task's output kind)."""

    input_title: str  # above the text box: "Prompt", "Text to summarize", ...
    action: str  # the run button: "Generate", "Summarize", "Classify"
    echo_input: bool = False  # the output continues the input, so the input is shown before it
    beams: bool = False  # beam search and length controls apply
    pair_title: str = ""  # a second text the model reads with the first (a context for a question); "": none
    conversation: bool = False  # the input is the user's next turn: each model keeps its conversation
    as_you_type: bool = False  # a written answer is asked again whenever the person pauses typing (translation)


@dataclass(frozen=True)
class Command:
    """The task's own command line command, `studio NAME --model M ...`, built from this declaration."""

    name: str  # "classify"
    help: str
    description: str = ""
    text_flag: str = "--text"  # the flag that gives the text ("--prompt" for a language model)
    pair_flag: str = ""  # the flag that gives the second text a pair task reads ("--context"); "": none
    file: str = ""  # "whole": --file gives the text instead; "lines": each line of --file is answered; "": no --file
    # the text flag repeats, each a user's turn answered in order, with --system; none: an interactive chat
    conversation: bool = False
    options: tuple[Setting, ...] = ()  # its own flags, by the names the task's `answer` reads
    json_help: str = ""  # what --json prints
    example: str = ""  # a text its models can answer (for the help, and for tests that ask every task)


@dataclass(frozen=True)
class TrainerSpec:
    """The Trainer class that trains a task's models, with its arguments class: transformers' own, or one
    built on it (trl's preference trainers). The engine gives them the run's arguments; `options` are the
    task's own arguments (a DPO beta) and `parts` its own constructor arguments (a reference model)."""

    trainer: type
    arguments: type
    options: dict[str, Any] = field(default_factory=dict)
    parts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Request:
    """What a person asks a model: a text (and a second one, for a task that reads a pair), with the
    task's options (sampling settings, how many candidates) and, in a chat, the turns before it."""

    text: str
    pair: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    history: tuple[dict[str, str], ...] = ()  # the conversation before `text`, for a task that chats


@dataclass(frozen=True)
class TaskConfig:
    """What a task reads of a run's settings: the length limit every task has, and its own settings."""

    seq_len: int
    values: dict[str, Any] = field(default_factory=dict)
    seed: int = 0  # the run's seed, for a task that draws its examples at random (sentence pairs)

    def __getitem__(self, name: str) -> Any:
        return self.values[name]


@dataclass
class DataInfo:
    """What a task learned about the data before training (a classifier's labels), kept with the run."""

    values: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


class EvalMetrics:
    """Trainer's `compute_metrics`, plus a report of the last evaluation that is more than numbers (a
    confusion matrix, the misclassified rows), stored with the run and shown in the monitor.

    `preprocess` (Trainer's `preprocess_logits_for_metrics`) may shrink each batch's logits before they
    are gathered: per-token logits over a vocabulary for a whole validation set do not fit in memory.
    """

    preprocess: Callable[[Any, Any], Any] | None = None

    def __call__(self, prediction: Any) -> dict[str, float]:
        raise NotImplementedError

    def take_report(self) -> dict[str, Any] | None:
        return None


@dataclass
class EvalSet:
    """The validation split as a task's metrics see it: the raw rows, in order, and the features the model
    reads. Most tasks make one feature of each row; a task may make several (a long context's windows), and
    keeps in its features whatever its metrics need to find their way back to the rows."""

    rows: Any
    features: Any
    columns: dict[str, str]


class Task:
    name: str
    title: str  # "Text classification"
    help: str  # one line
    columns: tuple[Column, ...]
    auto_class: str  # the transformers auto class of its models
    model_types: str  # transformers' registry of the model types that have that head (MODEL_FOR_..._NAMES)
    shapes: tuple[str, ...] = ()  # the model shapes it trains (see modeling.shapes); empty: any
    architectures: tuple[str, ...]  # class-name endings of its models' `config.architectures`
    presets: tuple[str, ...]  # the presets it trains, the default first
    samples: tuple[str, ...]  # the built-in samples it trains on, the default first
    headline: tuple[Metric, ...]  # curves beside the loss, in the monitor
    playground: PlaygroundSpec
    command: Command  # the command line command that uses its models
    output: OutputKind  # what its models give (see outputs): the Playground's view follows it
    pipeline_tag: str = ""  # the Hub's name for what its models do ("text-generation"), for an exported model card
    # the Hub's pipeline tags of the models it can start from, for a search of the Hub; empty: its own
    starts_from: tuple[str, ...] = ()
    settings: tuple[Setting, ...] = ()  # its own run settings: flags, TOML keys, checks and wizard rows
    eval_generates: bool = False  # evaluation generates text (Seq2SeqTrainer, predict_with_generate)
    length_title: str = "Sequence length"  # what --seq-len means for this task
    long_rows: str = "are cut to fit"  # what happens to a row longer than that
    label_names: str | None = None  # a head that predicts named labels: the DataInfo key holding the names
    head_title: str | None = None  # what that head is called, for the sentence when it starts fresh
    model_note: str = ""  # what a pretrained model becomes for this task, for the wizard
    attributable: bool = False  # its models score labels for a whole text, so a label can be explained
    writes_text: bool = False  # its models answer in text: sample prompts are answered at every evaluation
    # a fine-tune may add the data's words as tokens (see modeling.vocabulary): its models read a whole text for
    # one answer. Not a tagger's (a word's label would fall on the space token before an added word) nor a
    # writer's (it would learn to write tokens whose output rows start as guesses)
    grows_vocabulary: bool = False
    # RunConfig defaults this task's default run changes, as (field, value) pairs: the steps its default data
    # and preset need to show learning a person can see
    recipe: tuple[tuple[str, Any], ...] = ()
    peft_task_type: str | None = None  # peft's TaskType name: it keeps the task's head trainable under LoRA

    @property
    def default_preset(self) -> str:
        return self.presets[0]

    @property
    def default_data(self) -> str:
        return self.samples[0]

    @property
    def hub_tags(self) -> tuple[str, ...]:
        return self.starts_from or ((self.pipeline_tag,) if self.pipeline_tag else ())

    # ---- models -----------------------------------------------------------------------------------
    def accepts(self, config: Any) -> bool:
        """Whether a model with this config can be trained for the task (its type has the task's head)."""
        from transformers.models.auto import modeling_auto

        from studio.core.modeling.shapes import shape

        types = getattr(modeling_auto, self.model_types)
        known = getattr(config, "model_type", None) in types or bool(getattr(config, "auto_map", None))
        return known and (not self.shapes or shape(config) in self.shapes)

    def model_class(self, config: TaskConfig) -> str:
        """The auto class a run with these settings trains (masked LM with next-sentence prediction
        trains the pretraining heads; a model is used afterwards through `auto_class`)."""
        return self.auto_class

    def check_settings(self, config: TaskConfig) -> None:
        """Refuse, in a sentence, the task's settings that cannot work together."""

    def check_model_config(self, model_config: Any, config: TaskConfig, model: str) -> None:
        """Refuse, in a sentence and before any data is read, a model that has the task's head but cannot do
        what these settings ask of it."""

    def headline_of(self, settings: dict[str, Any]) -> tuple[Metric, ...]:
        """The headline metrics of a run with these settings (by name, as its config.toml holds them)."""
        return self.headline

    def model_settings(self, info: DataInfo) -> dict[str, Any]:
        """Config settings the task's head needs from the data: the names of what it predicts, when it
        predicts named labels (so an exported model speaks the person's own label names)."""
        if self.label_names is None:
            return {}
        names = info.values[self.label_names]
        return {"id2label": dict(enumerate(names)), "label2id": {n: i for i, n in enumerate(names)}}

    def model_settings_for_estimate(self) -> dict[str, Any]:
        """`model_settings` before the data is read, for a size estimate (placeholder names)."""
        return self.model_settings(DataInfo({self.label_names: ["a", "b", "c"]})) if self.label_names else {}

    def fresh_head_note(self, fresh: list[str]) -> str | None:
        """A sentence when loading a model for this task started some of its weights fresh (a new head)."""
        if not fresh or self.head_title is None:
            return None
        return (f"The {self.head_title} is new ({', '.join(fresh[:4])}): its weights start random and learn your "
                f"{self.label_names}; the rest of the model keeps its trained weights.")

    # ---- data ---------------------------------------------------------------------------------------
    def inspect(self, ds: Dataset, columns: dict[str, str], controls: dict[str, str]) -> tuple[Dataset, DataInfo]:
        """Check the data beyond its columns and return the rows to train on, with what was learned."""
        return ds, DataInfo()

    def check_data(self, info: DataInfo, config: TaskConfig) -> None:
        """Refuse, in a sentence and before anything trains, data that these settings cannot train on (what
        `inspect` learned of it: questions without answers when the run does not expect them)."""

    def adapt_tokenizer(self, tokenizer: Any, config: TaskConfig, model: str) -> list[str]:
        """Change the tokenizer of the run's model before the model is built (give it a chat template), with
        sentences saying what changed; the model's embeddings grow to any tokens added."""
        return []

    def preflight(self, rows: Dataset, tokenizer: Any, columns: dict[str, str], config: TaskConfig) -> None:
        """Refuse, in a sentence, before the model is built and the data tokenized, rows that the run's tokenizer
        cannot read as these settings need (a conversation its chat template refuses); checks of seconds, where
        the same refusal from `encode` comes only after all of the tokenizing."""

    def start_note(self, model: str) -> str:
        """What a person should know before training from `model` (a run, a folder, a hub id), read from its
        files alone: the wizard shows it under the model."""
        return ""

    def fit_to_data(self, model: Any, tokenizer: Any, rows: Dataset, columns: dict[str, str], config: TaskConfig,
                    *, pretrained: bool, adapters: bool = False) -> tuple[list[str], dict[str, Any]]:
        """Change the built model for the rows it will train on, measured on a few of them before training
        (`pretrained`: its weights come from a checkpoint, not a preset's random start; `adapters`: LoRA will
        train adapters on it, so its layers must stay those of the base the adapter is applied to). Returns sentences
        saying what changed and why, and the settings it decided, which the run's config records so that a
        resumed run builds the same model without measuring again."""
        return [], {}

    def adapt_model(self, model: Any, tokenizer: Any, config: TaskConfig) -> list[str]:
        """Change the built model for the task's settings (what its generation begins with), with sentences
        saying what changed; the change is saved with the model."""
        return []

    def claims(self, tokenizer: Any) -> bool:
        """Whether a model that several tasks could use (by its architecture) is this task's, judged by its
        tokenizer: a causal LM with a chat template is a chat model."""
        return False

    def split(self, ds: Dataset, fraction: float, seed: int, *, ordered: bool) -> tuple[Dataset, Dataset]:
        return sources.split(ds, fraction, seed, shuffle=not ordered)

    def tokenizer_texts(self, columns: dict[str, str]) -> list[str]:
        """The columns a new tokenizer learns from (word lists read as their words joined by spaces)."""
        return [columns[c.role] for c in self.columns if c.kind.tokenized and c.role in columns]

    def encode(self, rows: Dataset, tokenizer: Any, columns: dict[str, str], config: TaskConfig, *, ordered: bool,
               progress: Progress | None = None, control: Control | None = None) -> tuple[Dataset, dict[str, Any]]:
        """Model inputs for `rows` (one feature per row, or several), and token statistics by name (for the
        Data panel and `runs show`)."""
        raise NotImplementedError

    def cap_validation(self, rows: Dataset, features: Dataset, limit: int) -> tuple[Dataset, Dataset]:
        """At most `limit` validation features, with the raw rows they came from. Features here are rows in
        order (or blocks cut from them); a task that makes several features of one row caps by rows."""
        kept = min(len(features), limit)
        return rows.select(range(min(kept, len(rows)))), features.select(range(kept))

    def empty_split_hint(self, config: TaskConfig) -> str:
        """What follows "The training split" when a split holds nothing to train on."""
        return "is empty; add more rows"

    # ---- training -----------------------------------------------------------------------------------
    def collator(self, tokenizer: Any, model: Any, config: TaskConfig) -> Callable[[list[dict[str, Any]]], dict[str, Any]]:
        raise NotImplementedError

    def trainer(self, model: Any, config: TaskConfig) -> TrainerSpec:
        """The Trainer the engine runs for this task; every task shares the engine around it (run folder,
        callbacks, checkpoints, resume, several processes)."""
        from transformers import Seq2SeqTrainer, Seq2SeqTrainingArguments, Trainer, TrainingArguments

        if self.eval_generates:
            return TrainerSpec(Seq2SeqTrainer, Seq2SeqTrainingArguments,
                               {"predict_with_generate": True, "generation_num_beams": 1,
                                "generation_max_length": self.length_limits(config)[1]})
        return TrainerSpec(Trainer, TrainingArguments)

    def probe_collator(self, tokenizer: Any, model: Any, config: TaskConfig) -> Callable[[list[dict[str, Any]]], dict[str, Any]]:
        """Batches as the model's own forward reads them, with labels, for the steps that time a budget or find
        the batch size (a task whose Trainer computes the loss itself makes them differently)."""
        return self.collator(tokenizer, model, config)

    def tokens_in(self, batch: dict[str, Any]) -> int:
        """Tokens the model reads in a collated batch, for tokens/s (padding not counted)."""
        mask = batch.get("attention_mask")
        return int(mask.sum()) if mask is not None else int(batch["input_ids"].numel())

    def metrics(self, tokenizer: Any, validation: EvalSet, info: DataInfo) -> EvalMetrics | None:
        """Trainer's compute_metrics for this task, over the features of `validation` in order."""
        return None

    def derived(self, values: dict[str, float]) -> dict[str, float]:
        """Metrics computed from logged ones (perplexity from the validation loss)."""
        return {}

    def memory_shape(self, config: TaskConfig, adapters: bool) -> dict[str, Any]:
        """What a step holds beyond one sequence a row, for the memory estimate (`modeling.estimate`'s
        `sequences` and `reference`): a preference pair is two sequences, and DPO keeps a reference model."""
        return {}

    def length_limits(self, config: TaskConfig) -> tuple[int, int]:
        """(source, target) lengths for the memory estimate and generation; target 0 for one sequence."""
        return config.seq_len, 0

    def sample_prompts(self, rows: Dataset, columns: dict[str, str], count: int) -> list[tuple[str, str]]:
        """Up to `count` (prompt, reference) pairs from validation rows, answered at every evaluation of a
        task that `writes_text`, so a person sees the answers change as the model learns."""
        return []

    # ---- using a trained model ----------------------------------------------------------------------
    def check_options(self, options: dict[str, Any]) -> None:
        """Refuse options that cannot work (with a sentence) before a model is loaded to answer them."""

    def answer(self, loaded: Any, request: Request, *, on_token: OnToken | None = None,
               control: Control | None = None) -> Any:
        """What the model gives for `request`, as the result its output kind describes; `on_token` receives
        generated tokens as they come, for a task whose answers are written token by token."""
        raise NotImplementedError

    def answer_each(self, loaded: Any, texts: list[str], options: dict[str, Any], *,
                    progress: Progress | None = None, control: Control | None = None) -> list[Any]:
        """An answer for each text, in order (a batch of lines in the Playground, `--file` on the command line)."""
        out = []
        for i, text in enumerate(texts):
            if control is not None:
                control.checkpoint()
            out.append(self.answer(loaded, Request(text, options=options), control=control))
            if progress is not None:
                progress((i + 1) / len(texts))
        return out

    def evaluate(self, loaded: Any, ds: Dataset, columns: dict[str, str], *, ordered: bool = False,
                 progress: Progress | None = None, control: Control | None = None) -> dict[str, Any]:
        """Score a trained model on labelled rows; the dict `studio evaluate --json` prints."""
        raise NotImplementedError

    def describe_scores(self, scores: dict[str, Any]) -> list[str]:
        """`evaluate`'s result as lines for a terminal."""
        return [f"{k}: {v:.4f}" for k, v in scores.items() if isinstance(v, float)]
