"""Text classification (BERT- or GPT-style): a label for a text; accuracy, macro F1, per-class scores and
the confusion matrix; the Playground shows every label's probability.

Labels are read from the data before anything trains (their classes, counts and unlabelled rows, see
data.labels); the model gets a head of that many outputs with the person's own label names in
`id2label`, so `transformers.pipeline("text-classification")` predicts those names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from studio.core.control import Control
from studio.core.data.columns import LABEL, TEXT, Column
from studio.core.errors import ConfigError, DataError
from studio.core.settings import Setting
from studio.core.tasks import outputs
from studio.core.tasks.base import (
    Command,
    DataInfo,
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
    import numpy as np
    from datasets import Dataset

MISCLASSIFIED_ROWS = 200  # kept per evaluation, most confident mistakes first
_TEXT_CHARS = 500


class TextClassification(Task):
    name = "classify"
    title = "Text classification"
    help = "Learn a label for each text (sentiment, topic, ...); accuracy and F1; the Playground shows each label."
    columns = (Column("text", "Text", TEXT, ("text", "sentence", "review", "content", "document", "body", "comment",
                                             "message", "question"), "The text to classify"),
               Column("label", "Label", LABEL, ("label", "labels", "class", "category", "sentiment", "intent",
                                                "topic", "target", "y"), "Its label: a word or a whole number"))
    auto_class = "AutoModelForSequenceClassification"
    peft_task_type = "SEQ_CLS"
    model_types = "MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES"
    architectures = ("ForSequenceClassification",)
    presets = ("bert-tiny", "bert-small", "gpt-tiny", "gpt-small")
    samples = ("sample:packages",)
    headline = (Metric("eval_accuracy", "Accuracy", share=True), Metric("eval_f1", "Macro F1", share=True))
    playground = PlaygroundSpec(input_title="Text to classify", action="Classify")
    command = Command("classify", help="the label a trained classifier gives a text, and each label's probability",
                      description="Classify a text (--text), or each line of a file (--file).", file="lines",
                      options=(Setting("batch_size", "int", 32, help="texts per forward pass with --file", low=1,
                                       metavar="N"),),
                      json_help='print {"label", "score", "scores": {label: probability}} (one object per line '
                                "with --file)",
                      example="open the file and read its bytes")
    settings = (
        Setting("pooling", "str", "auto", choices=("auto", "head", "mean"), title="Pooling", saved_before="head",
                help="what the classifier reads of the text: head, the model's own (BERT's [CLS] token, GPT's last "
                     "token); mean, the mean of the tokens (an encoder gets one more layer that starts as their mean); "
                     "auto, the mean when the encoder's [CLS] is measured flat on your data, as after masked-LM "
                     "pretraining alone"),
    )
    output = outputs.LABELS
    pipeline_tag = "text-classification"
    starts_from = ("text-classification", "fill-mask")  # a pretrained encoder gets a new head
    attributable = True
    grows_vocabulary = True
    label_names = "labels"
    head_title = "classification head"
    length_title = "Text length"
    model_note = "any BERT- or GPT-style model gets a new classification head for your labels"

    def inspect(self, ds: Dataset, columns: dict[str, str], controls: dict[str, str]) -> tuple[Dataset, DataInfo]:
        from studio.core.data import labels

        found = labels.label_set(ds, columns["label"], controls["label"])
        rows = labels.with_label_ids(ds, columns["label"], found, controls["label"])
        warnings = list(found.warnings())
        if found.missing:
            warnings.insert(0, f"{found.missing:,} row{'s' if found.missing != 1 else ''} with no label "
                               f"{'are' if found.missing != 1 else 'is'} left out.")
        return rows, DataInfo({"labels": found.names, "counts": found.counts, "missing": found.missing}, warnings)

    def split(self, ds: Dataset, fraction: float, seed: int, *, ordered: bool) -> tuple[Dataset, Dataset]:
        from studio.core.data import labels

        return labels.stratified_split(ds, fraction, seed)

    def start_note(self, model: str) -> str:
        """A masked-LM run without next-sentence prediction never trained its [CLS] token."""
        from pathlib import Path

        from studio.core.runs import layout

        path = Path(model).expanduser()
        run = layout.run_of(path) if path.is_dir() else None
        settings = layout.read_config(run) if run is not None else {}
        if settings.get("task") != "mlm" or settings.get("nsp"):
            return ""
        return ("This encoder was pretrained by masked LM alone, which never trains its [CLS] token, the one a "
                "classifier reads; with Pooling on auto the run measures it on your data before training and, if it "
                "hardly varies, reads the mean of the tokens instead.")

    def fit_to_data(self, model: Any, tokenizer: Any, rows: Dataset, columns: dict[str, str], config: TaskConfig,
                    *, pretrained: bool, adapters: bool = False) -> tuple[list[str], dict[str, Any]]:
        """An encoder whose [CLS] output is flat on this data (pretrained by masked LM alone) is read through a
        mean-pooling layer instead (see modeling.pooling)."""
        from studio.core.modeling import pooling, shapes

        # a task built on this one may declare settings of its own in place of pooling: it measures
        choice, kind = config.values.get("pooling", "auto"), model.config.model_type
        if shapes.shape(model.config) != shapes.ENCODER:
            if choice == "mean":
                raise ConfigError(f"--pooling mean adds a mean-pooling layer to BERT-style encoders; a {kind} model's "
                                  "classifier reads its last token, which its language modelling trained. Drop "
                                  "--pooling.")
            return [], {"pooling": "head"}
        why = ""
        if choice == "auto":
            if not pretrained:
                return [], {"pooling": "head"}  # trained from scratch, the [CLS] token learns with the head
            texts = rows.select(range(min(len(rows), pooling.MEASURED_ROWS)))[columns["text"]]
            spread = pooling.first_token_spread(model, tokenizer, texts, config.seq_len)
            if spread is None or spread >= pooling.FLAT:
                return [], {"pooling": "head"}
            why = (f"The encoder's [CLS] output varies {spread:.2f} times as much across your texts as its tokens do "
                   "(an encoder pretrained by masked LM alone never trains it), so a classifier reading it would "
                   "hardly learn. ")
        if choice == "head":
            return [], {"pooling": "head"}
        if adapters:
            if choice == "mean":
                raise ConfigError("--pooling mean adds a layer to the encoder, and LoRA keeps the encoder's layers as "
                                  "the base has them; drop --lora, or --pooling mean.")
            return [why + "With LoRA the encoder keeps the base's layers, so Studio cannot add its mean-pooling layer "
                          "and the classifier may learn slowly; train without --lora to read the mean instead."], \
                {"pooling": "head"}
        if not pooling.add_mean_pooling_layer(model):
            if choice == "mean":
                raise ConfigError(f"Studio adds its mean-pooling layer to encoders laid out as BERT's; a {kind} model "
                                  "is not. Drop --pooling mean.")
            return [why + f"Studio cannot add a mean-pooling layer to a {kind} model, so the classifier may learn "
                          "slowly; continue from a model pretrained with --nsp, or train from a preset."], \
                {"pooling": "head"}
        return [why + "The classifier reads the mean of the tokens instead: a layer added on top starts as their mean "
                      "and trains with the head (the model stays a plain "
                      f"{kind} classifier for transformers)."], {"pooling": "mean"}

    def encode(self, rows: Dataset, tokenizer: Any, columns: dict[str, str], config: TaskConfig, *, ordered: bool,
               progress: Progress | None = None, control: Control | None = None) -> tuple[Dataset, dict[str, Any]]:
        import pyarrow as pa

        from studio.core.data import encoding, labels

        column = columns["text"]
        advance = encoding.reporter(len(rows), progress, control)

        def tokenize(batch: pa.Table) -> pa.Table:
            texts = batch.column(column).to_pylist()
            ids = encoding.encode(tokenizer, texts)
            advance(len(texts))
            return pa.table({"input_ids": encoding.list_array(encoding.cut(tokenizer, ids, config.seq_len)),
                             "labels": batch.column(labels.LABELS), "n": encoding.lengths(ids),
                             "chars": encoding.characters(texts)})

        key = encoding.fingerprint(rows, tokenizer, column, config.seq_len, "classify")
        encoded = encoding.arrow_map(rows, tokenize, key, rows.column_names)
        stats = encoding.stats(encoding.int_column(encoded, "n"), encoding.column_sum(encoded, "chars"), config.seq_len)
        return encoded.remove_columns(["n", "chars"]), {"text": stats.as_dict()}

    def collator(self, tokenizer: Any, model: Any, config: TaskConfig) -> Any:
        from transformers import DataCollatorWithPadding

        return DataCollatorWithPadding(tokenizer, pad_to_multiple_of=8)

    def metrics(self, tokenizer: Any, validation: EvalSet, info: DataInfo) -> ClassificationMetrics:
        return ClassificationMetrics(info.values["labels"], [t or "" for t in validation.rows[validation.columns["text"]]])

    def answer(self, loaded: Any, request: Request, *, on_token: OnToken | None = None,
               control: Control | None = None) -> Any:
        from studio.core.playground.classification import classify

        return classify(loaded, request.text)

    def answer_each(self, loaded: Any, texts: list[str], options: dict[str, Any], *,
                    progress: Progress | None = None, control: Control | None = None) -> list[Any]:
        from studio.core.playground.classification import classify_many

        return classify_many(loaded, texts, batch_size=options.get("batch_size", 32), progress=progress,
                             control=control)

    def evaluate(self, loaded: Any, ds: Dataset, columns: dict[str, str], *, ordered: bool = False,
                 progress: Progress | None = None, control: Control | None = None) -> dict[str, Any]:
        import numpy as np

        from studio.core.data import labels
        from studio.core.modeling.batches import logits

        names = loaded.labels
        wanted = labels.label_set(ds, columns["label"], "--label-column")
        unknown = [n for n in wanted.names if n not in names]
        if unknown:
            shown = ", ".join(f"'{n}'" for n in unknown[:5])
            raise DataError(f"The data has labels the model was not trained on ({shown}); the model knows "
                            f"{', '.join(repr(n) for n in names[:10])}. Evaluate on data with those labels.")
        rows = labels.with_label_ids(ds, columns["label"], wanted, "--label-column")
        truth = np.asarray([names.index(wanted.names[i]) for i in rows[labels.LABELS]], dtype=np.int64)
        scores = logits(loaded.model, loaded.tokenizer, [t or "" for t in rows[columns["text"]]],
                        limit=loaded.input_limit, progress=progress, control=control)
        return {**report(truth, scores.argmax(-1), names), "rows": len(truth)}

    def describe_scores(self, scores: dict[str, Any]) -> list[str]:
        lines = [f"accuracy {scores['accuracy']:.4f}, macro F1 {scores['f1']:.4f} on {scores['rows']:,} rows",
                 f"{'label':24} {'precision':>9} {'recall':>9} {'f1':>9} {'support':>8}"]
        for name, s in scores["per_class"].items():
            lines.append(f"{name[:24]:24} {s['precision']:9.3f} {s['recall']:9.3f} {s['f1']:9.3f} {s['support']:8d}")
        return lines


def report(truth: np.ndarray, predicted: np.ndarray, names: list[str]) -> dict[str, Any]:
    """Accuracy, macro F1 (over the classes present in truth or predictions, as scikit-learn counts it),
    per-class precision, recall, F1 and support, and the confusion matrix (rows true, columns predicted)."""
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

    ids = list(range(len(names)))
    precision, recall, f1, support = precision_recall_fscore_support(truth, predicted, labels=ids, zero_division=0)
    return {
        "accuracy": float(accuracy_score(truth, predicted)) if len(truth) else 0.0,
        "f1": float(f1_score(truth, predicted, average="macro", zero_division=0)) if len(truth) else 0.0,
        "per_class": {name: {"precision": float(precision[i]), "recall": float(recall[i]), "f1": float(f1[i]),
                             "support": int(support[i])} for i, name in enumerate(names)},
        "confusion_matrix": {"labels": list(names),
                             "matrix": confusion_matrix(truth, predicted, labels=ids).astype(int).tolist()},
    }


class ClassificationMetrics(EvalMetrics):
    """Accuracy and macro F1 for the run store; the full report, with the misclassified validation rows
    (most confident mistakes first), for the monitor."""

    def __init__(self, names: list[str], texts: list[str]) -> None:
        self.names = names
        self.texts = texts
        self._report: dict[str, Any] | None = None

    def __call__(self, prediction: Any) -> dict[str, float]:
        import numpy as np

        from studio.core.modeling.batches import softmax

        scores = prediction.predictions[0] if isinstance(prediction.predictions, tuple) else prediction.predictions
        probabilities = softmax(np.asarray(scores, dtype=np.float64))
        truth = np.asarray(prediction.label_ids, dtype=np.int64)
        predicted = probabilities.argmax(-1)
        out = report(truth, predicted, self.names)
        wrong = np.flatnonzero(predicted != truth)
        confidence = probabilities[wrong, predicted[wrong]]
        out["misclassified"] = [
            {"row": int(i), "text": self.texts[i][:_TEXT_CHARS] if i < len(self.texts) else "",
             "true": self.names[truth[i]], "predicted": self.names[predicted[i]], "confidence": float(c)}
            for i, c in sorted(zip(wrong, confidence), key=lambda pair: -pair[1])[:MISCLASSIFIED_ROWS]]
        self._report = out
        return {"accuracy": out["accuracy"], "f1": out["f1"]}

    def take_report(self) -> dict[str, Any] | None:
        report_, self._report = self._report, None
        return report_


TASK = TextClassification()
