"""Extractive question answering (BERT-style): the answer to a question is a span of its context; exact match
and F1 as the SQuAD evaluation counts them; the Playground highlights the answer in the context.

Rows are encoded as transformers' run_qa.py encodes them: question first, then the context, cut into
windows of the run's length that overlap by `stride` tokens; each window learns the start and end token of
its answer, or the first token when the answer is not inside it (or the question has none). Validation
windows keep their row and their context tokens' character offsets, so the metrics pick each row's best span
over all its windows (see squad).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from studio.core.control import Control
from studio.core.data.answers import ANSWERS
from studio.core.data.columns import TEXT, Column
from studio.core.errors import DataError
from studio.core.settings import Setting
from studio.core.tasks import outputs, squad
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

_EVAL_BATCH = 32
_MODEL_INPUTS = ("input_ids", "token_type_ids", "start_positions", "end_positions")
MISSED_ROWS = 100  # validation questions answered wrong, kept per evaluation


class QuestionAnswering(Task):
    name = "qa"
    title = "Question answering"
    help = "Learn to find the answer to a question in a text (extractive, SQuAD-style); exact match and F1."
    columns = (Column("question", "Question", TEXT, ("question", "questions", "query", "q"), "The question"),
               Column("context", "Context", TEXT, ("context", "passage", "paragraph", "document"),
                      "The text that holds the answer"),
               Column("answers", "Answers", ANSWERS, ("answers", "answer"),
                      'The answer spans: {"text": [...], "answer_start": [...]} (SQuAD\'s shape)'))
    auto_class = "AutoModelForQuestionAnswering"
    peft_task_type = "QUESTION_ANS"
    model_types = "MODEL_FOR_QUESTION_ANSWERING_MAPPING_NAMES"
    shapes = ("encoder-only",)
    architectures = ("ForQuestionAnswering",)
    presets = ("bert-tiny", "bert-small")
    samples = ("sample:python-qa",)
    headline = (Metric("eval_exact_match", "Exact match", short="EM"), Metric("eval_f1", "F1"))
    playground = PlaygroundSpec(input_title="Question", action="Answer", pair_title="Context")
    command = Command("answer", help="the answer an extractive QA model finds for a question in a context",
                      text_flag="--question", pair_flag="--context",
                      options=(Setting("top_k", "int", 1, low=1, help="answers to give, best first (1)", metavar="N"),),
                      json_help='print {"answers": [{"text", "start", "end", "score"}, ...]} best first, with '
                                "character offsets into the context",
                      example="What does it return?")
    output = outputs.ANSWERS
    pipeline_tag = "question-answering"
    starts_from = ("question-answering", "fill-mask")  # a pretrained encoder gets a new span head
    head_title = "answer-span head"
    length_title = "Window length"
    long_rows = "are split into overlapping windows"
    model_note = "any BERT-style encoder gets a new head that points at the answer's first and last token"
    settings = (
        Setting("stride", "int", 32, low=0, metavar="N", title="Window overlap",
                help="tokens two windows of a long context share (32), so an answer cut by one is whole in the next"),
        Setting("no_answer", "bool", False, title="Questions may have no answer",
                help="some questions are not answered by their context (SQuAD 2.0): the model learns to say so, "
                     "and answers may be empty"))
    # Measured on sample:python-qa, bert-tiny, 2 cores (see tests/benchmarks/quality.py).
    recipe = (("max_steps", 2000), ("eval_every", 250), ("save_every", 500), ("seq_len", 256))

    def fresh_head_note(self, fresh: list[str]) -> str | None:
        if not fresh:
            return None
        return (f"The {self.head_title} is new ({', '.join(fresh[:4])}): its weights start random and learn where "
                "answers start and end; the rest of the model keeps its trained weights.")

    def inspect(self, ds: Dataset, columns: dict[str, str], controls: dict[str, str]) -> tuple[Dataset, DataInfo]:
        from studio.core.data import answers

        unanswered = answers.check(ds, columns, controls)
        return ds, DataInfo({"unanswered": len(unanswered), "first_unanswered": unanswered[0] if unanswered else None})

    def check_data(self, info: DataInfo, config: TaskConfig) -> None:
        row = info.values.get("first_unanswered")
        if row is not None and not config["no_answer"]:
            n = info.values["unanswered"]
            raise DataError(f"Row {row + 1}'s question has no answer in its context ({n:,} question{'s' if n != 1 else ''} "
                            "without one); pass --no-answer to train on them (SQuAD 2.0), or leave them out.")

    def tokenizer_texts(self, columns: dict[str, str]) -> list[str]:
        return [columns["question"], columns["context"]]

    def encode(self, rows: Dataset, tokenizer: Any, columns: dict[str, str], config: TaskConfig, *, ordered: bool,
               progress: Progress | None = None, control: Control | None = None) -> tuple[Dataset, dict[str, Any]]:
        import numpy as np
        import pyarrow as pa
        from datasets import Dataset

        from studio.core.data import encoding

        advance = encoding.reporter(len(rows), progress, control)
        parts: dict[str, list] = {k: [] for k in ("input_ids", "token_type_ids", "start_positions", "end_positions",
                                                  "example", "offsets")}
        windows_per_row = []
        for start in range(0, len(rows), 1000):
            batch = rows.select(range(start, min(start + 1000, len(rows))))
            found = encode_windows(tokenizer, batch[columns["question"]], batch[columns["context"]],
                                   batch[columns["answers"]], config.seq_len, config["stride"])
            for key, values in found.items():
                parts[key].extend(values if key != "example" else [start + v for v in values])
            windows_per_row.extend(np.bincount(found["example"], minlength=len(batch)).tolist())
            advance(len(batch))
        table = {"input_ids": encoding.list_array(parts["input_ids"]), "example": pa.array(parts["example"], pa.int64()),
                 "start_positions": pa.array(parts["start_positions"], pa.int64()),
                 "end_positions": pa.array(parts["end_positions"], pa.int64()),
                 "offsets": encoding.list_array(parts["offsets"])}
        if any(parts["token_type_ids"]):
            table["token_type_ids"] = encoding.list_array(parts["token_type_ids"])
        lengths = np.asarray([len(q) + len(c) for q, c in zip(rows[columns["question"]], rows[columns["context"]])])
        split = float(np.mean(np.asarray(windows_per_row) > 1)) if windows_per_row else 0.0
        stats = encoding.stats(np.asarray([len(i) for i in parts["input_ids"]]), int(lengths.sum()), config.seq_len)
        stats.truncated_share = split
        return Dataset(pa.table(table)), {"text": stats.as_dict()}

    def cap_validation(self, rows: Dataset, features: Dataset, limit: int) -> tuple[Dataset, Dataset]:
        """At most `limit` rows with all their windows: a row's answer is the best over its windows."""
        kept = min(limit, len(rows))
        examples = features["example"]
        last = next((i for i, e in enumerate(examples) if e >= kept), len(examples))
        return rows.select(range(kept)), features.select(range(last))

    def empty_split_hint(self, config: TaskConfig) -> str:
        return "holds no questions; add more rows"

    def collator(self, tokenizer: Any, model: Any, config: TaskConfig) -> Any:
        return WindowCollator(tokenizer)

    def metrics(self, tokenizer: Any, validation: EvalSet, info: DataInfo) -> EvalMetrics:
        c = validation.columns
        return AnswerMetrics(list(validation.rows[c["question"]]), list(validation.rows[c["context"]]),
                             [a["text"] for a in validation.rows[c["answers"]]], list(validation.features["example"]),
                             list(validation.features["offsets"]), bool(info.values.get("unanswered")))

    def answer(self, loaded: Any, request: Request, *, on_token: OnToken | None = None,
               control: Control | None = None) -> Any:
        from studio.core.playground.answering import answer

        return answer(loaded, request.text, request.pair, top_k=int(request.options.get("top_k", 1)),
                      no_answer=bool(loaded.settings.get("no_answer")), stride=loaded.settings.get("stride"),
                      control=control)

    def evaluate(self, loaded: Any, ds: Dataset, columns: dict[str, str], *, ordered: bool = False,
                 progress: Progress | None = None, control: Control | None = None) -> dict[str, Any]:
        """Exact match and F1 of each row's best span, found as the training's evaluation finds it."""
        import torch

        from studio.core.data import answers
        from studio.core.modeling.batches import length_batches
        from studio.core.playground.answering import default_stride

        controls = {"question": "--question-column", "context": "--context-column", "answers": "--answers-column"}
        answers.check(ds, columns, controls)
        found = encode_windows(loaded.tokenizer, ds[columns["question"]], ds[columns["context"]],
                               ds[columns["answers"]], loaded.input_limit,
                               int(loaded.settings.get("stride") or default_stride(loaded.input_limit)))
        pad = loaded.tokenizer.pad_token_id if loaded.tokenizer.pad_token_id is not None else 0
        start_logits, end_logits = [None] * len(found["input_ids"]), [None] * len(found["input_ids"])
        types = found["token_type_ids"] if any(found["token_type_ids"]) else None
        done = 0
        for chosen, batch, mask in length_batches(found["input_ids"], _EVAL_BATCH, pad):
            if control is not None:
                control.checkpoint()
            inputs = {"input_ids": batch.to(loaded.device), "attention_mask": mask.to(loaded.device)}
            if types is not None:
                inputs["token_type_ids"] = torch.tensor([types[i] + [0] * (batch.shape[1] - len(types[i]))
                                                         for i in chosen], device=loaded.device)
            with torch.inference_mode():
                out = loaded.model(**inputs)
            for row, i in enumerate(chosen):
                start_logits[i] = out.start_logits[row].float().cpu().numpy()
                end_logits[i] = out.end_logits[row].float().cpu().numpy()
            done += len(chosen)
            if progress is not None:
                progress(done / len(found["input_ids"]))
        metric = AnswerMetrics(list(ds[columns["question"]]), list(ds[columns["context"]]),
                               [a["text"] for a in ds[columns["answers"]]], found["example"], found["offsets"],
                               bool(loaded.settings.get("no_answer")))
        predicted = metric.predictions(start_logits, end_logits)
        return {**squad.scores(predicted, metric.golds), "rows": len(ds)}

    def describe_scores(self, scores: dict[str, Any]) -> list[str]:
        return [f"exact match {scores['exact_match']:.2f}, F1 {scores['f1']:.2f} on {scores['rows']:,} questions"]


def encode_windows(tokenizer: Any, questions: list[str], contexts: list[str], answers: list[dict[str, Any]],
                   limit: int, stride: int) -> dict[str, list]:
    """Windows of (question, context) with the token where each window's answer starts and ends (the first
    token when it has none), the row each came from, and its tokens' character offsets in the context (-1
    outside it), flattened to [start, end, start, end, ...]."""
    from studio.core.playground.answering import windows

    encoded = windows(tokenizer, [q.lstrip() for q in questions], list(contexts), limit, stride)
    out: dict[str, list] = {k: [] for k in ("input_ids", "token_type_ids", "start_positions", "end_positions",
                                            "example", "offsets")}
    cls = tokenizer.cls_token_id
    for w, ids in enumerate(encoded["input_ids"]):
        row = encoded["overflow_to_sample_mapping"][w]
        sequence = encoded.sequence_ids(w)
        offsets = [tuple(o) if s == 1 else (-1, -1) for o, s in zip(encoded["offset_mapping"][w], sequence)]
        first = ids.index(cls) if cls in ids else 0
        start = end = first
        gold = answers[row]
        if gold["text"]:
            begin = gold["answer_start"][0]
            finish = begin + len(gold["text"][0])
            inside = [i for i, s in enumerate(sequence) if s == 1]
            if inside and offsets[inside[0]][0] <= begin and offsets[inside[-1]][1] >= finish:
                start = next(i for i in inside if offsets[i][1] > begin)
                end = next(i for i in reversed(inside) if offsets[i][0] < finish)
        out["input_ids"].append(ids)
        out["token_type_ids"].append(encoded["token_type_ids"][w] if "token_type_ids" in encoded else [])
        out["start_positions"].append(start)
        out["end_positions"].append(end)
        out["example"].append(row)
        out["offsets"].append([x for o in offsets for x in o])
    return out


class WindowCollator:
    """The model's inputs and answer positions of a batch of windows, padded; a window's row and offsets stay
    behind (Trainer keeps every column, and the model would refuse them)."""

    def __init__(self, tokenizer: Any) -> None:
        from transformers import DataCollatorWithPadding

        self.pad = DataCollatorWithPadding(tokenizer, pad_to_multiple_of=8)

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, Any]:
        return self.pad([{k: f[k] for k in _MODEL_INPUTS if k in f} for f in features])


class AnswerMetrics(EvalMetrics):
    """Exact match and F1 of each validation row's best span over its windows; the questions answered wrong
    (question, prediction, gold) for the run's report."""

    def __init__(self, questions: list[str], contexts: list[str], golds: list[list[str]], examples: list[int],
                 offsets: list[list[int]], no_answer: bool) -> None:
        self.questions, self.contexts, self.golds = questions, contexts, golds
        self.examples, self.no_answer = examples, no_answer
        self.offsets = [list(zip(o[::2], o[1::2])) for o in offsets]
        self._report: dict[str, Any] | None = None

    def predictions(self, start_logits: Any, end_logits: Any) -> list[str]:
        by_row: dict[int, list[int]] = {}
        for w, row in enumerate(self.examples):
            by_row.setdefault(row, []).append(w)
        out = []
        for row, context in enumerate(self.contexts):
            spans, null = squad.best_spans((start_logits[w], end_logits[w], self.offsets[w])
                                           for w in by_row.get(row, []))
            best = spans[0] if spans else None
            empty = best is None or (self.no_answer and null > best.score)
            out.append("" if empty else context[best.start:best.end])
        return out

    def __call__(self, prediction: Any) -> dict[str, float]:
        start_logits, end_logits = prediction.predictions
        predicted = self.predictions(start_logits, end_logits)
        golds = self.golds[:len(predicted)]
        missed = [{"row": i, "question": q, "prediction": p, "gold": g}
                  for i, (q, p, g) in enumerate(zip(self.questions, predicted, golds))
                  if not max(squad.exact(p, a) for a in (g or [""]))][:MISSED_ROWS]
        self._report = {"missed": missed}
        return squad.scores(predicted, golds)

    def take_report(self) -> dict[str, Any] | None:
        report, self._report = self._report, None
        return report


TASK = QuestionAnswering()
