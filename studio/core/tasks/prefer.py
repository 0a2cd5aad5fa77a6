"""Preference tuning: move a chat model towards the chosen answer of each pair and away from the rejected one.

The step after chat tuning. A row is a prompt with two answers (see data.preferences). The methods are
trl's trainers, under the same engine as every task (run folder, store, callbacks, checkpoints, resume,
LoRA, several processes): DPO (Direct Preference Optimization), whose reference is the starting model
(with LoRA, the base with the adapter switched off, so memory stays one model), and ORPO, which needs no
reference and learns the chosen answers as it learns to prefer them. trl logs the rewards, their margin
and how often the chosen answer wins (`eval_rewards/accuracies`); the monitor draws them.

Studio tokenizes the pairs as trl's DPOTrainer does (cached, with progress, cut pairs counted), so the
trainers are given tokens: each is told to take them as they are, which is the only change made to them.
"""

from __future__ import annotations

import copy
import functools
import warnings
from typing import TYPE_CHECKING, Any

from studio.core.control import Control
from studio.core.data.columns import TURNS, Column
from studio.core.errors import DataError
from studio.core.settings import Setting
from studio.core.tasks import chat
from studio.core.tasks.base import DataInfo, Metric, Progress, TaskConfig, TrainerSpec

if TYPE_CHECKING:
    from datasets import Dataset

METHODS = ("dpo", "orpo")
FEATURES = ("prompt_ids", "chosen_ids", "rejected_ids")
_EVAL_BATCH = 8


class Prefer(chat.Chat):
    name = "prefer"
    title = "Preference tuning"
    help = ("Tune a chat model on pairs of answers, towards the chosen and away from the rejected one (DPO, "
            "ORPO); the Playground chats with it.")
    columns = (
        Column("prompt", "Prompt", TURNS, ("prompt", "question", "instruction", "query"),
               "What both answers answer: a text, or messages ending on the user's turn (none: the chosen and "
               "rejected conversations share it)", optional=True),
        Column("chosen", "Chosen answer", TURNS, ("chosen", "preferred", "accepted", "better", "response_chosen"),
               "The answer to prefer: a text or the assistant's message"),
        Column("rejected", "Rejected answer", TURNS, ("rejected", "dispreferred", "worse", "response_rejected"),
               "The answer to move away from"),
    )
    samples = ("sample:python-prefer",)
    headline = (Metric("eval_rewards/accuracies", "Preference accuracy", share=True, short="pref acc"),
                Metric("eval_rewards/margins", "Reward margin", short="margin"),
                Metric("eval_rewards/chosen", "Chosen reward", short="chosen"),
                Metric("eval_rewards/rejected", "Rejected reward", short="rejected"))
    settings = (
        Setting("method", "str", "dpo", choices=METHODS, title="Method",
                help="dpo: Direct Preference Optimization, kept near the starting model; orpo: odds-ratio "
                     "preference optimization, which also learns the chosen answers and needs no reference"),
        Setting("beta", "float", 0.1, low=0, above=True, high=100, metavar="B", title="Beta", step=0.05,
                hint="0.1 is usual", help="dpo: how close to the starting model the tuned one stays (higher: "
                                          "closer); orpo: the weight of the preference against learning the "
                                          "chosen answers (0.1)"),
        chat.TASK.settings[0],  # the chat template
    )
    length_title = "Prompt and answer length"
    long_rows = "lose the end of their answers (a prompt that fills it is left out)"
    model_note = "a chat model (a chat run, or an instruct model from the Hub) learns which answers to prefer"
    # From scratch the preset tells 70% of the held-out pairs apart after about 250 steps (6 min on 2 cores).
    recipe = (("max_steps", 300), ("eval_every", 50), ("save_every", 150))

    def claims(self, tokenizer: Any) -> bool:
        return False  # a chat model opens as a chat; a preference run's model is found by its run

    def adapt_tokenizer(self, tokenizer: Any, config: TaskConfig, model: str) -> list[str]:
        from studio.core.modeling import presets

        notes = super().adapt_tokenizer(tokenizer, config, model)
        if presets.is_preset(model):
            notes.append(f"{model} starts from random weights: preference tuning teaches it which answer to prefer, "
                         "not how to answer. To tune a model that answers, train a chat run first and pass it as "
                         "--model.")
        return notes

    # ---- data ---------------------------------------------------------------------------------------
    def inspect(self, ds: Dataset, columns: dict[str, str], controls: dict[str, str]) -> tuple[Dataset, DataInfo]:
        """Every row is read as a pair now, so a bad one is refused by its place in the file; pairs whose
        answers are the same teach nothing and are left out."""
        from studio.core.data import preferences

        pairs = (preferences.pair(row, columns, i) for i, row in enumerate(ds.select_columns(list(columns.values()))))
        same = [i for i, found in enumerate(pairs) if found.chosen.strip() == found.rejected.strip()]
        total = len(ds)
        if len(same) == total:
            raise DataError(f"In every one of the {total:,} rows the chosen and the rejected answer are the same, so "
                            "there is nothing to prefer; check the chosen and rejected columns.")
        ds = ds.add_column(chat.ROW, list(range(total)))
        info = DataInfo({"pairs": total - len(same)})
        if same:
            ds = ds.select(sorted(set(range(total)) - set(same)))
            info.warnings.append(f"{len(same):,} of {total:,} pairs have the same chosen and rejected answer (the "
                                 f"first is row {same[0] + 1}); they are left out.")
        return ds, info

    def preflight(self, rows: Dataset, tokenizer: Any, columns: dict[str, str], config: TaskConfig) -> None:
        """Every pair rendered by the template as text (one it refuses is named by its row), and the first ones
        encoded as training will encode them (some prompt leaves room for the answers)."""
        from studio.core.data import chat_encoding, preferences

        if not getattr(tokenizer, "chat_template", None):
            return  # `encode` says what to do
        fits, seen, longest = False, 0, 0
        for seen, row in enumerate(chat.in_file_order(rows.select_columns([*columns.values(), chat.ROW])), 1):
            found = preferences.pair(row, columns, row[chat.ROW])
            for answer in (found.chosen, found.rejected):
                chat_encoding.check_renders(tokenizer, [*found.prompt, {"role": "assistant", "content": answer}],
                                            row[chat.ROW])
            if seen <= chat.PREFLIGHT_ROWS and not fits:
                done = preferences.encode(tokenizer, found, config.seq_len)
                fits = done is not None
                if done is None:
                    longest = max(longest, len(chat_encoding.prompt_ids(tokenizer, found.prompt, row[chat.ROW])))
        if seen and not fits:
            which = "No pair's prompt" if seen <= chat.PREFLIGHT_ROWS else \
                f"No prompt of the first {chat.PREFLIGHT_ROWS} pairs"
            raise DataError(f"{which} leaves room for an answer in {config.seq_len} tokens (the longest of them "
                            f"has {longest:,}); raise --seq-len above that, or shorten the prompts.")

    def encode(self, rows: Dataset, tokenizer: Any, columns: dict[str, str], config: TaskConfig, *, ordered: bool,
               progress: Progress | None = None, control: Control | None = None) -> tuple[Dataset, dict[str, Any]]:
        import pyarrow as pa

        from studio.core.data import encoding, preferences

        if not getattr(tokenizer, "chat_template", None):
            raise DataError("The model's tokenizer has no chat template; choose one with --chat-template (chatml, "
                            "llama3, gemma, or a Jinja file).")
        limit = config.seq_len
        advance = encoding.reporter(len(rows), progress, control)
        read = list(columns.values()) + [chat.ROW]

        def tokenize(batch: pa.Table) -> pa.Table:
            out: dict[str, list[Any]] = {name: [] for name in (*FEATURES, "length", "cut", "chars")}
            lost = 0
            for row in batch.select(read).to_pylist():
                found = preferences.pair(row, columns, row[chat.ROW])
                done = preferences.encode(tokenizer, found, limit)
                if done is None:
                    lost += 1
                    continue
                for name in FEATURES:
                    out[name].append(getattr(done, name))
                out["length"].append(len(done.prompt_ids) + max(len(done.chosen_ids), len(done.rejected_ids)))
                out["cut"].append(done.cut)
                out["chars"].append(sum(len(m["content"]) for m in found.prompt) + len(found.chosen))
            advance(len(out["cut"]) + lost)
            return pa.table({**{name: encoding.list_array(out[name]) for name in FEATURES},
                             "length": pa.array(out["length"], pa.int64()), "cut": pa.array(out["cut"], pa.bool_()),
                             "chars": pa.array(out["chars"], pa.int64())})

        key = encoding.fingerprint(rows, tokenizer, sorted(columns.items()), limit, "prefer")
        encoded = encoding.arrow_map(rows, tokenize, key, rows.column_names)
        return encoding.counted(rows, encoded, limit, "pair", "pairs",
                                "their answers are cut to fit (--seq-len sets the limit).",
                                f"their prompt alone fills {limit} tokens; raise --seq-len to keep them.")

    def empty_split_hint(self, config: TaskConfig) -> str:
        return f"holds no pair whose prompt fits in {config.seq_len} tokens; raise --seq-len or shorten the prompts"

    def sample_prompts(self, rows: Dataset, columns: dict[str, str], count: int) -> list[tuple[str, str]]:
        """The last question of a pair's prompt, with the chosen answer for reference."""
        from studio.core.data import preferences

        head = rows.select(range(min(len(rows), count))).select_columns(list(columns.values()) + [chat.ROW])
        return [(found.prompt[-1]["content"], found.chosen)
                for found in (preferences.pair(row, columns, row[chat.ROW]) for row in head)]

    # ---- training -----------------------------------------------------------------------------------
    def collator(self, tokenizer: Any, model: Any, config: TaskConfig) -> Any:
        return OrpoCollator(tokenizer.pad_token_id) if config["method"] == "orpo" else _pairs(tokenizer.pad_token_id)

    def probe_collator(self, tokenizer: Any, model: Any, config: TaskConfig) -> Any:
        """The chosen and rejected sequences with their answers as labels: the policy's forward and backward of
        a step (the reference's forward, without gradients, is left out of the timing)."""
        collate = _pairs(tokenizer.pad_token_id)

        def probe(rows: list[dict[str, Any]]) -> dict[str, Any]:
            batch = collate(rows)
            labels = batch["input_ids"].masked_fill(batch["completion_mask"] == 0, -100)
            return {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"], "labels": labels}

        return probe

    def memory_shape(self, config: TaskConfig, adapters: bool) -> dict[str, Any]:
        # with LoRA, DPO's reference is the base with the adapters off: no second copy
        return {"sequences": 2, "reference": config["method"] == "dpo" and not adapters}

    def tokens_in(self, batch: dict[str, Any]) -> int:
        """Both answers' sequences, prompt included (DPO's batch holds them as rows, ORPO's side by side)."""
        masks = ("attention_mask", "chosen_attention_mask", "rejected_attention_mask")
        return sum(int(batch[name].sum()) for name in masks if name in batch)

    def trainer(self, model: Any, config: TaskConfig) -> TrainerSpec:
        _quiet_deprecations()
        if config["method"] == "orpo":
            from trl.experimental.orpo import ORPOConfig

            return TrainerSpec(_orpo_trainer(), ORPOConfig, {"beta": config["beta"], "max_length": config.seq_len})
        from trl import DPOConfig

        reference = None
        if not hasattr(model, "peft_config"):  # with LoRA, trl switches the adapter off for the reference
            reference = copy.deepcopy(model).eval().requires_grad_(False)
        return TrainerSpec(_dpo_trainer(), DPOConfig, {"beta": config["beta"], "max_length": config.seq_len},
                           {"ref_model": reference})

    def derived(self, values: dict[str, float]) -> dict[str, float]:
        return {}

    # ---- using a trained model ----------------------------------------------------------------------
    def evaluate(self, loaded: Any, ds: Dataset, columns: dict[str, str], *, ordered: bool = False,
                 progress: Progress | None = None, control: Control | None = None) -> dict[str, Any]:
        """How often the model gives the chosen answer a higher log-probability than the rejected one, and by
        how much on average (summed over each answer's tokens, as DPO's rewards are)."""
        import torch

        from studio.core.data import preferences

        tok = loaded.tokenizer
        if not getattr(tok, "chat_template", None):
            raise DataError(f"'{loaded.source}' has no chat template to read the pairs with; evaluate a model trained "
                            "with --task chat or prefer, or one that comes with a template.")
        encoded = [preferences.encode(tok, preferences.pair(row, columns, i), loaded.input_limit)
                   for i, row in enumerate(ds.select_columns(list(columns.values())))]
        features = [{name: getattr(e, name) for name in FEATURES} for e in encoded if e is not None]
        if not features:
            raise DataError(f"No pair's prompt fits in {loaded.input_limit} tokens, so there is nothing to score.")
        collate = _pairs(tok.pad_token_id or 0)
        margins: list[float] = []
        for start in range(0, len(features), _EVAL_BATCH):
            if control is not None:
                control.checkpoint()
            batch = {k: v.to(loaded.device) for k, v in collate(features[start:start + _EVAL_BATCH]).items()}
            with torch.inference_mode():
                logits = loaded.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
            scores = torch.log_softmax(logits[:, :-1].float(), -1).gather(-1, batch["input_ids"][:, 1:, None])[..., 0]
            summed = (scores * batch["completion_mask"][:, 1:]).sum(-1)
            chosen, rejected = summed.chunk(2)
            margins += (chosen - rejected).tolist()
            if progress is not None:
                progress(min(1.0, (start + _EVAL_BATCH) / len(features)))
        return {"accuracy": sum(m > 0 for m in margins) / len(margins), "logp_margin": sum(margins) / len(margins),
                "pairs": len(margins)}


def _pairs(pad_token_id: int) -> Any:
    """trl's DPO collator: each pair's chosen and rejected sequences as rows of one padded batch, with the
    answers' tokens marked (`completion_mask`)."""
    from trl.trainer.dpo_trainer import DataCollatorForPreference

    return DataCollatorForPreference(pad_token_id=pad_token_id, pad_to_multiple_of=8)


class OrpoCollator:
    """Studio's pair features under the names trl's ORPOTrainer reads (prompt, and each answer after it with
    its labels), padded by trl's own collator."""

    def __init__(self, pad_token_id: int) -> None:
        from trl.experimental.utils import DPODataCollatorWithPadding

        self.inner = DPODataCollatorWithPadding(pad_token_id=pad_token_id, is_encoder_decoder=False)

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, Any]:
        named = []
        for f in features:
            prompt = list(f["prompt_ids"])
            row = {"prompt_input_ids": prompt, "prompt_attention_mask": [1] * len(prompt)}
            for side in ("chosen", "rejected"):
                answer = list(f[f"{side}_ids"])
                row[f"{side}_input_ids"] = prompt + answer
                row[f"{side}_attention_mask"] = [1] * (len(prompt) + len(answer))
                row[f"{side}_labels"] = [-100] * len(prompt) + answer
            named.append(row)
        return self.inner(named)


def _quiet_deprecations() -> None:
    # trl asks models whether they recompute activations by the name transformers 5 deprecated; said to a
    # person at every run, it is noise they can do nothing about
    warnings.filterwarnings("ignore", message="`is_gradient_checkpointing` is deprecated", category=FutureWarning)


@functools.cache
def _dpo_trainer() -> type:
    from trl import DPOTrainer

    class TokenizedDPOTrainer(DPOTrainer):
        def _prepare_dataset(self, dataset: Any, *args: Any, **kwargs: Any) -> Any:
            if set(FEATURES) <= set(dataset.column_names):  # Studio's tokens, made as trl makes them
                return dataset
            return super()._prepare_dataset(dataset, *args, **kwargs)

    return TokenizedDPOTrainer


@functools.cache
def _orpo_trainer() -> type:
    from trl.experimental.orpo import ORPOTrainer

    class TokenizedORPOTrainer(ORPOTrainer):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.use_dpo_data_collator = True  # OrpoCollator's batches are its own collator's

        def tokenize_row(self, feature: dict[str, Any], model: Any = None) -> dict[str, Any]:
            if set(FEATURES) <= feature.keys():
                return {}  # Studio's tokens; OrpoCollator names them as ORPO reads them
            return super().tokenize_row(feature, model)

    return TokenizedORPOTrainer


TASK = Prefer()
