"""Token classification (named entities and the like): a tag for each word; entity-level precision,
recall and F1 as seqeval counts them (exact span and type), token accuracy and F1 per entity type; the
Playground colours the entity spans.

A row's words are joined by single spaces into the text the model reads, exactly as a person's text
reaches the token-classification pipeline; each word's tag goes on its first sub-word token and the
other pieces are ignored (-100), as transformers' run_ner.py does. Tokens are matched to words by their
character offsets, so any fast tokenizer works (WordPiece, byte-level BPE).
"""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING, Any

from studio.core.control import Control
from studio.core.data.columns import TAGS, WORDS, Column
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
    from datasets import Dataset

IGNORE = -100
MISTAKEN_ROWS = 100  # validation sentences with a wrong tag, kept per evaluation
_EVAL_BATCH = 32


class TokenClassification(Task):
    name = "tag"
    title = "Token classification"
    help = "Learn a tag for each word (named entities and the like, in BIO spans); entity F1; the Playground colours them."
    columns = (Column("tokens", "Words", WORDS, ("tokens", "words", "token", "word"), "The words of each row, a list"),
               Column("tags", "Tags", TAGS, ("ner_tags", "tags", "ner", "labels", "tag", "pos_tags"),
                      "A tag for each word: B-PER, I-PER, O, ..."))
    auto_class = "AutoModelForTokenClassification"
    peft_task_type = "TOKEN_CLS"
    model_types = "MODEL_FOR_TOKEN_CLASSIFICATION_MAPPING_NAMES"
    architectures = ("ForTokenClassification",)
    presets = ("bert-tiny", "bert-small", "gpt-tiny", "gpt-small")
    samples = ("sample:python-tags",)
    headline = (Metric("eval_f1", "Entity F1", share=True), Metric("eval_accuracy", "Token accuracy", share=True))
    playground = PlaygroundSpec(input_title="Text to tag", action="Tag")
    command = Command("tag", help="the entities a token classifier finds in a text, and every token's tag",
                      json_help='print {"entities": [{"text", "label", "start", "end", "score"}, ...], "tokens": '
                                '[{"text", "tag", "score"}, ...]} with offsets into TEXT',
                      example="Alice lives in Paris")
    output = outputs.TAGS
    pipeline_tag = "token-classification"
    starts_from = ("token-classification", "fill-mask")  # a pretrained encoder gets a new head
    label_names = "tags"
    head_title = "tagging head"
    length_title = "Text length"
    model_note = "any BERT- or GPT-style model gets a new tagging head for your tags"

    def inspect(self, ds: Dataset, columns: dict[str, str], controls: dict[str, str]) -> tuple[Dataset, DataInfo]:
        from studio.core.data import tags

        tags.check_pairs(ds, columns["tokens"], columns["tags"], controls)
        found = tags.tag_set(ds, columns["tags"], controls["tags"])
        rows = tags.with_tag_ids(ds, columns["tags"], found)
        warnings = [f"{found.missing:,} row{'s' if found.missing != 1 else ''} without words left out."] \
            if found.missing else []
        values = {"tags": found.names, "counts": found.counts, "missing": found.missing,
                  "entity_types": tags.entity_types(found.names)}
        return rows, DataInfo(values, warnings)

    def encode(self, rows: Dataset, tokenizer: Any, columns: dict[str, str], config: TaskConfig, *, ordered: bool,
               progress: Progress | None = None, control: Control | None = None) -> tuple[Dataset, dict[str, Any]]:
        import pyarrow as pa

        from studio.core.data import encoding
        from studio.core.data.tags import TAG_IDS

        words_column = columns["tokens"]
        advance = encoding.reporter(len(rows), progress, control)

        def tokenize(batch: pa.Table) -> pa.Table:
            words = batch.column(words_column).to_pylist()
            ids, labels, lengths = encode_words(tokenizer, words, batch.column(TAG_IDS).to_pylist(), config.seq_len)
            advance(len(words))
            return pa.table({"input_ids": encoding.list_array(ids), "labels": encoding.list_array(labels),
                             "n": pa.array(lengths, pa.int64()),
                             "chars": encoding.characters([" ".join(w) for w in words])})

        key = encoding.fingerprint(rows, tokenizer, words_column, config.seq_len, "tag")
        encoded = encoding.arrow_map(rows, tokenize, key, rows.column_names)
        stats = encoding.stats(encoding.int_column(encoded, "n"), encoding.column_sum(encoded, "chars"), config.seq_len)
        return encoded.remove_columns(["n", "chars"]), {"text": stats.as_dict()}

    def collator(self, tokenizer: Any, model: Any, config: TaskConfig) -> Any:
        from transformers import DataCollatorForTokenClassification

        return DataCollatorForTokenClassification(tokenizer, pad_to_multiple_of=8)

    def metrics(self, tokenizer: Any, validation: EvalSet, info: DataInfo) -> EvalMetrics:
        return TagMetrics(info.values["tags"], list(validation.rows[validation.columns["tokens"]]))

    def answer(self, loaded: Any, request: Request, *, on_token: OnToken | None = None,
               control: Control | None = None) -> Any:
        from studio.core.playground.tagging import tag

        return tag(loaded, request.text)

    def evaluate(self, loaded: Any, ds: Dataset, columns: dict[str, str], *, ordered: bool = False,
                 progress: Progress | None = None, control: Control | None = None) -> dict[str, Any]:
        import numpy as np
        import torch

        from studio.core.data import tags
        from studio.core.errors import DataError
        from studio.core.modeling.batches import length_batches

        controls = {"tokens": "--tokens-column", "tags": "--tags-column"}
        tags.check_pairs(ds, columns["tokens"], columns["tags"], controls)
        names = loaded.labels
        found = tags.tag_set(ds, columns["tags"], controls["tags"])
        unknown = [n for n, c in zip(found.names, found.counts) if c and n not in names]
        if unknown:
            raise DataError(f"The data has tags the model was not trained on ({', '.join(unknown[:5])}); the model "
                            f"knows {', '.join(names[:12])}. Evaluate on data with those tags.")
        rows = tags.with_tag_ids(ds, columns["tags"], found)
        remap = np.asarray([names.index(n) if n in names else 0 for n in found.names])
        words = list(rows[columns["tokens"]])
        gold_ids = [remap[np.asarray(r, dtype=np.int64)].tolist() for r in rows[tags.TAG_IDS]]
        ids, labels, _ = encode_words(loaded.tokenizer, words, gold_ids, loaded.input_limit)
        gold, predicted = [[]] * len(ids), [[]] * len(ids)
        pad = loaded.tokenizer.pad_token_id if loaded.tokenizer.pad_token_id is not None else 0
        done = 0
        for chosen, batch, mask in length_batches(ids, _EVAL_BATCH, pad):
            if control is not None:
                control.checkpoint()
            with torch.inference_mode():
                best = loaded.model(input_ids=batch.to(loaded.device),
                                    attention_mask=mask.to(loaded.device)).logits.argmax(-1).cpu().numpy()
            for row, i in enumerate(chosen):
                kept = [p for p, label in enumerate(labels[i]) if label != IGNORE]
                gold[i] = [names[labels[i][p]] for p in kept]
                predicted[i] = [names[best[row, p]] for p in kept]
            done += len(chosen)
            if progress is not None:
                progress(done / len(ids))
        return {**entity_report(gold, predicted), "rows": len(ids)}

    def describe_scores(self, scores: dict[str, Any]) -> list[str]:
        lines = [f"entity F1 {scores['f1']:.4f} (precision {scores['precision']:.4f}, recall {scores['recall']:.4f}), "
                 f"token accuracy {scores['accuracy']:.4f} on {scores['rows']:,} rows",
                 f"{'entity type':24} {'precision':>9} {'recall':>9} {'f1':>9} {'support':>8}"]
        for kind, s in scores["per_type"].items():
            lines.append(f"{kind[:24]:24} {s['precision']:9.3f} {s['recall']:9.3f} {s['f1']:9.3f} {s['support']:8d}")
        return lines


def align(offsets: list[tuple[int, int]], starts: list[int], tag_ids: list[int], special: list[bool]) -> list[int]:
    """Each token's training label: its word's tag on the word's first token, IGNORE on the other pieces
    and on template tokens. `starts` are the words' first characters in the joined text."""
    labels, seen = [], set()
    for (begin, end), is_special in zip(offsets, special):
        if is_special or end <= begin:
            labels.append(IGNORE)
            continue
        word = bisect.bisect_right(starts, begin) - 1
        labels.append(tag_ids[word] if word not in seen else IGNORE)
        seen.add(word)
    return labels


def encode_words(tokenizer: Any, rows: list[list[str]], tag_ids: list[list[int]], limit: int
                 ) -> tuple[list[list[int]], list[list[int]], list[int]]:
    """Input ids and aligned labels for rows of words, cut to `limit` tokens with the template's closing
    tokens kept; and each row's full length in tokens (for statistics)."""
    from studio.core.data.encoding import encode_with_offsets, frame

    texts, starts = [], []
    for words in rows:
        positions, at = [], 0
        for word in words:
            positions.append(at)
            at += len(word or "") + 1
        texts.append(" ".join(w or "" for w in words))
        starts.append(positions)
    ids, offsets = encode_with_offsets(tokenizer, texts)
    specials = set(tokenizer.all_special_ids)
    tail = len(frame(tokenizer)[1])
    out_ids, out_labels = [], []
    for row_ids, row_offsets, row_starts, row_tags in zip(ids, offsets, starts, tag_ids):
        labels = align(row_offsets, row_starts, row_tags, [i in specials for i in row_ids])
        if len(row_ids) > limit:
            keep = max(1, limit - tail)
            row_ids = row_ids[:keep] + row_ids[len(row_ids) - tail:]
            labels = labels[:keep] + [IGNORE] * tail
        out_ids.append(row_ids)
        out_labels.append(labels)
    return out_ids, out_labels, [len(i) for i in ids]


def entity_report(gold: list[list[str]], predicted: list[list[str]]) -> dict[str, Any]:
    """Entity-level precision, recall and F1 (seqeval, micro over entities), token accuracy, and
    precision, recall, F1 and support per entity type."""
    from seqeval.metrics import accuracy_score, classification_report, f1_score, precision_score, recall_score

    from studio.core.data.tags import scheme_tags

    gold = [scheme_tags(g) for g in gold]
    predicted = [scheme_tags(p) for p in predicted]
    if not any(gold):
        return {"precision": 0.0, "recall": 0.0, "f1": 0.0, "accuracy": 0.0, "per_type": {}}
    per_type = classification_report(gold, predicted, output_dict=True, zero_division=0)
    return {
        "precision": float(precision_score(gold, predicted, zero_division=0)),
        "recall": float(recall_score(gold, predicted, zero_division=0)),
        "f1": float(f1_score(gold, predicted, zero_division=0)),
        "accuracy": float(accuracy_score(gold, predicted)),
        "per_type": {kind: {"precision": float(s["precision"]), "recall": float(s["recall"]),
                            "f1": float(s["f1-score"]), "support": int(s["support"])}
                     for kind, s in per_type.items() if not kind.endswith(" avg")},
    }


class TagMetrics(EvalMetrics):
    """Entity precision, recall and F1 and token accuracy for the run store; per-type scores and the
    validation sentences with a wrong tag (gold and predicted side by side) for the monitor."""

    def __init__(self, names: list[str], words: list[list[str]]) -> None:
        self.names = names
        self.words = words
        self._report: dict[str, Any] | None = None

    def preprocess(self, logits: Any, labels: Any) -> Any:
        return (logits[0] if isinstance(logits, tuple) else logits).argmax(dim=-1)

    def __call__(self, prediction: Any) -> dict[str, float]:
        import numpy as np

        best, labels = np.asarray(prediction.predictions), np.asarray(prediction.label_ids)
        gold, predicted, mistakes = [], [], []
        for row, (b, lab) in enumerate(zip(best, labels)):
            kept = lab != IGNORE
            g = [self.names[i] for i in lab[kept]]
            p = [self.names[i] for i in b[kept]]
            gold.append(g)
            predicted.append(p)
            if g != p and len(mistakes) < MISTAKEN_ROWS and row < len(self.words):
                words = list(self.words[row])[:len(g)]
                mistakes.append({"row": row, "words": words, "gold": g, "predicted": p})
        report = entity_report(gold, predicted)
        self._report = {**report, "mistakes": mistakes}
        return {name: report[name] for name in ("precision", "recall", "f1", "accuracy")}

    def take_report(self) -> dict[str, Any] | None:
        report, self._report = self._report, None
        return report


TASK = TokenClassification()
