"""Chat (instruction tuning): learn the assistant's answers in conversations; the Playground chats.

A row is one conversation, in any of the shapes people keep them (see data.conversations): a column of
OpenAI messages or ShareGPT turns, or a prompt column and a response column (Alpaca's instruction and
output, with its input joined to the prompt). The model reads the conversation through its own chat
template, or one the person chooses for a model without one, and learns only the assistant's tokens,
end-of-turn marker included (see data.chat_encoding); `--train-on-prompt` learns the whole conversation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from studio.core.control import Control
from studio.core.data.columns import CONVERSATION, TEXT, Column
from studio.core.errors import ConfigError, DataError
from studio.core.playground import sampling
from studio.core.settings import Setting
from studio.core.tasks import outputs
from studio.core.tasks.base import (
    Command,
    DataInfo,
    Metric,
    OnToken,
    PlaygroundSpec,
    Progress,
    Request,
    Task,
    TaskConfig,
)
from studio.core.tasks.lm import perplexity

if TYPE_CHECKING:
    from datasets import Dataset

ROW = "studio_row"  # the row's place in the data as read, kept through the split so a refusal names it
_EVAL_BATCH = 8
PREFLIGHT_ROWS = 256  # encoded before the model is built, to find a length or template that leaves nothing to learn
# rendered as text before the model is built, to find a conversation the template refuses: a few seconds at most;
# a refused row past these is found by the tokenizing, as before
RENDERED_ROWS = 10_000


class Chat(Task):
    name = "chat"
    title = "Chat"
    help = "Tune a model on conversations, learning the assistant's answers; the Playground chats with it."
    columns = (
        Column("messages", "Conversation", CONVERSATION, ("messages", "conversations", "conversation", "chat", "turns"),
               "A conversation per row: OpenAI messages or ShareGPT turns", group="conversation"),
        Column("prompt", "Prompt", TEXT, ("prompt", "instruction", "question", "query"),
               "The user's prompt (Alpaca's instruction)", group="pair"),
        Column("response", "Response", TEXT, ("response", "output", "answer", "completion"),
               "The assistant's answer to it", group="pair"),
        Column("input", "Input", TEXT, ("input",), "Alpaca's input, added to the prompt", group="pair",
               optional=True),
    )
    auto_class = "AutoModelForCausalLM"
    peft_task_type = "CAUSAL_LM"
    model_types = "MODEL_FOR_CAUSAL_LM_MAPPING_NAMES"
    shapes = ("decoder-only",)
    architectures = ("ForCausalLM", "LMHeadModel")
    presets = ("llama-tiny", "llama-small")
    samples = ("sample:python-chat",)
    headline = (Metric("eval_perplexity", "Perplexity", higher_is_better=False),)
    playground = PlaygroundSpec(input_title="Message", action="Send", conversation=True)
    command = Command("chat", help="chat with a model through its chat template (streams the answers)",
                      description="Each --message is the user's next turn; the model answers each in order, so the "
                                  "conversation grows. Without --message, on a terminal, an interactive chat "
                                  "(Ctrl-D ends it).",
                      text_flag="--message", conversation=True,
                      options=sampling.options(beams=1, max_new=256),
                      json_help='print {"messages": [...]}: the whole conversation, answers included',
                      example="What does json.dumps do?")
    output = outputs.TEXT
    pipeline_tag = "text-generation"
    settings = (
        Setting("chat_template", "str", "", metavar="NAME|FILE", title="Chat template",
                placeholder="the model's own (chatml, llama3, gemma or a Jinja file for one without)",
                help="the chat template of a model that has none: chatml, llama3, gemma or a Jinja file; it is "
                     "saved with the model (default: the model's own)"),
        Setting("train_on_prompt", "bool", False, title="Learn the whole conversation",
                help="learn the system and user turns too, not only the assistant's answers"),
    )
    writes_text = True
    length_title = "Conversation length"
    long_rows = "lose their last turns (whole turns are kept)"
    model_note = "a decoder-only model (Llama, Qwen, SmolLM, GPT-2, ...) learns to answer your conversations"
    # Learning the answers' three shapes takes a tiny model a few hundred steps; their content (which
    # module a name is in) takes longer.
    recipe = (("max_steps", 1500), ("eval_every", 250), ("save_every", 500))

    def check_settings(self, config: TaskConfig) -> None:
        from studio.core.data import chat_templates

        if config["chat_template"]:
            chat_templates.check(config["chat_template"])

    # ---- models -------------------------------------------------------------------------------------
    def accepts(self, config: Any) -> bool:
        """A decoder that writes text: a classifier built on one (GPT2ForSequenceClassification) does not."""
        names = getattr(config, "architectures", None) or []
        return super().accepts(config) and (not names or any(n.endswith(self.architectures) for n in names))

    def claims(self, tokenizer: Any) -> bool:
        return bool(getattr(tokenizer, "chat_template", None))

    def adapt_tokenizer(self, tokenizer: Any, config: TaskConfig, model: str) -> list[str]:
        from studio.core.data import chat_templates

        choice = config["chat_template"]
        own = getattr(tokenizer, "chat_template", None)
        if not choice:
            if not own:
                raise ConfigError(f"{model} has no chat template, so Studio cannot tell its turns apart; choose one "
                                  "with --chat-template (chatml, llama3, gemma, or a Jinja file).")
            choice = next((name for name, text in chat_templates.TEMPLATES.items() if text == own), "")
            if not choice:
                return []  # the model's own template, as its makers wrote it
        new = chat_templates.apply(tokenizer, choice)
        if not new:
            return []
        return [f"The chat template's markers {', '.join(new)} are new to {model}: they get new embeddings, which "
                "learn from the conversations."]

    # ---- data ---------------------------------------------------------------------------------------
    def inspect(self, ds: Dataset, columns: dict[str, str], controls: dict[str, str]) -> tuple[Dataset, DataInfo]:
        """Every row is read as a conversation now, so a bad one is refused by its place in the file."""
        for i, row in enumerate(ds.select_columns(list(columns.values()))):
            conversation(row, columns, i)
        ds = ds.add_column(ROW, list(range(len(ds))))
        return ds, DataInfo({"conversations": len(ds)})

    def encode(self, rows: Dataset, tokenizer: Any, columns: dict[str, str], config: TaskConfig, *, ordered: bool,
               progress: Progress | None = None, control: Control | None = None) -> tuple[Dataset, dict[str, Any]]:
        import pyarrow as pa

        from studio.core.data import chat_encoding, encoding

        limit, whole = config.seq_len, bool(config["train_on_prompt"])
        advance = encoding.reporter(len(rows), progress, control)
        read = list(columns.values()) + [ROW]

        def tokenize(batch: pa.Table) -> pa.Table:
            ids, labels, full, cut, chars = [], [], [], [], []
            for row in batch.select(read).to_pylist():
                messages = conversation(row, columns, row[ROW])
                done = chat_encoding.encode(tokenizer, messages, limit=limit, train_on_prompt=whole, row=row[ROW])
                full.append(done.length)
                cut.append(done.cut)
                learned = any(label != chat_encoding.IGNORE for label in done.labels[1:])
                # a first question longer than the limit leaves no answer to learn: the row is left out
                ids.append(done.input_ids if learned else None)
                labels.append(done.labels if learned else None)
                chars.append(sum(len(m["content"]) for m in messages))
            advance(len(ids))
            kept = [i for i, row in enumerate(ids) if row is not None]
            return pa.table({"input_ids": encoding.list_array([ids[i] for i in kept]),
                             "labels": encoding.list_array([labels[i] for i in kept]),
                             "length": pa.array([full[i] for i in kept]), "cut": pa.array([cut[i] for i in kept]),
                             "chars": pa.array([chars[i] for i in kept])})

        key = encoding.fingerprint(rows, tokenizer, sorted(columns.items()), limit, whole, "chat")
        encoded = encoding.arrow_map(rows, tokenize, key, rows.column_names)
        return encoding.counted(rows, encoded, limit, "conversation", "conversations",
                                "they keep their first turns up to the last whole answer that fits (--seq-len sets the "
                                "limit).", f"their first answer starts after {limit} tokens, so nothing of it would "
                                "be learned; raise --seq-len to keep them.")

    def preflight(self, rows: Dataset, tokenizer: Any, columns: dict[str, str], config: TaskConfig) -> None:
        """Every conversation rendered by the template as text (one it refuses is named by its row), and the
        first ones encoded as training will encode them (their answers found, some of them within the length)."""
        from studio.core.data import chat_encoding

        if not getattr(tokenizer, "chat_template", None):
            return  # `encode` says what to do
        learned, seen = False, 0
        for seen, row in enumerate(in_file_order(rows.select_columns([*columns.values(), ROW])), 1):
            messages = conversation(row, columns, row[ROW])
            if seen > PREFLIGHT_ROWS:
                chat_encoding.check_renders(tokenizer, messages, row[ROW])
                continue
            done = chat_encoding.encode(tokenizer, messages, limit=config.seq_len,
                                        train_on_prompt=bool(config["train_on_prompt"]), row=row[ROW])
            learned = learned or any(label != chat_encoding.IGNORE for label in done.labels[1:])
        if seen and not learned:
            which = "No conversation" if seen <= PREFLIGHT_ROWS else \
                f"None of the first {PREFLIGHT_ROWS} conversations"
            raise DataError(f"{which} has an answer that starts within {config.seq_len} tokens, so nothing of "
                            "them would be learned; raise --seq-len or shorten the prompts.")

    def empty_split_hint(self, config: TaskConfig) -> str:
        return (f"holds no conversation whose first answer starts within {config.seq_len} tokens; raise --seq-len "
                "or shorten the prompts")

    def sample_prompts(self, rows: Dataset, columns: dict[str, str], count: int) -> list[tuple[str, str]]:
        """The first question of a conversation, with its answer for reference; one per conversation."""
        found: list[tuple[str, str]] = []
        head = rows.select(range(min(len(rows), count * 4))).select_columns(list(columns.values()) + [ROW])
        for row in head:
            messages = conversation(row, columns, row[ROW])
            first = next(i for i, m in enumerate(messages) if m["role"] == "assistant")
            if first and messages[first - 1]["role"] == "user":
                found.append((messages[first - 1]["content"], messages[first]["content"]))
            if len(found) == count:
                break
        return found

    # ---- training -----------------------------------------------------------------------------------
    def collator(self, tokenizer: Any, model: Any, config: TaskConfig) -> Any:
        from transformers import DataCollatorForSeq2Seq

        from studio.core.data.chat_encoding import IGNORE

        # for a causal LM it pads the inputs and the labels (with -100) alike, which is all a chat needs
        return DataCollatorForSeq2Seq(tokenizer, label_pad_token_id=IGNORE, pad_to_multiple_of=8)

    def derived(self, values: dict[str, float]) -> dict[str, float]:
        return {"eval_perplexity": perplexity(values["eval_loss"])} if "eval_loss" in values else {}

    # ---- using a trained model ----------------------------------------------------------------------
    def check_options(self, options: dict[str, Any]) -> None:
        sampling.Sampling.from_options(options).check()

    def answer(self, loaded: Any, request: Request, *, on_token: OnToken | None = None,
               control: Control | None = None) -> Any:
        from studio.core.playground import generation

        messages = [*request.history, {"role": "user", "content": request.text}]
        return generation.chat(loaded, messages, sampling.Sampling.from_options(request.options), on_token=on_token,
                               control=control, forced=request.options.get("forced"))

    def evaluate(self, loaded: Any, ds: Dataset, columns: dict[str, str], *, ordered: bool = False,
                 progress: Progress | None = None, control: Control | None = None) -> dict[str, Any]:
        """The mean negative log-likelihood of the assistant's tokens under the model's template."""
        import torch

        from studio.core.data import chat_encoding
        from studio.core.modeling.batches import length_batches

        tok = loaded.tokenizer
        if not getattr(tok, "chat_template", None):
            raise ConfigError(f"'{loaded.source}' has no chat template to read the conversations with; evaluate a "
                              "model trained with --task chat, or one that comes with a template.")
        encoded = [chat_encoding.encode(tok, conversation(row, columns, i), limit=loaded.input_limit, row=i)
                   for i, row in enumerate(ds.select_columns(list(columns.values())))]
        ids, labels = [e.input_ids for e in encoded], [e.labels for e in encoded]
        total, count, done = 0.0, 0, 0
        for chosen, batch, mask in length_batches(ids, _EVAL_BATCH, tok.pad_token_id or 0):
            if control is not None:
                control.checkpoint()
            target = torch.full(batch.shape, chat_encoding.IGNORE, dtype=torch.long)
            for row, i in enumerate(chosen):
                target[row, :len(labels[i])] = torch.tensor(labels[i])
            with torch.inference_mode():
                logits = loaded.model(input_ids=batch.to(loaded.device), attention_mask=mask.to(loaded.device)).logits
            target = target[:, 1:].to(logits.device)
            total += torch.nn.functional.cross_entropy(logits[:, :-1].flatten(0, 1).float(), target.flatten(),
                                                       ignore_index=chat_encoding.IGNORE, reduction="sum").item()
            count += int((target != chat_encoding.IGNORE).sum())
            done += len(chosen)
            if progress is not None:
                progress(done / len(ids))
        loss = total / max(count, 1)
        return {"loss": loss, "perplexity": perplexity(loss), "assistant_tokens": count}


def in_file_order(rows: Dataset) -> Dataset:
    """The first RENDERED_ROWS rows of both splits as the file has them, so a refusal names the first bad row."""
    places = rows[ROW]
    return rows.select(sorted(range(len(places)), key=places.__getitem__)[:RENDERED_ROWS])


def conversation(row: dict[str, Any], columns: dict[str, str], index: int) -> list[dict[str, str]]:
    """A row's conversation as messages, from whichever columns the data has."""
    from studio.core.data import conversations

    if "messages" in columns:
        return conversations.from_turns(row[columns["messages"]], index)
    if "input" in columns:
        return conversations.from_alpaca(row[columns["prompt"]], row[columns["input"]], row[columns["response"]],
                                         index)
    return conversations.from_prompt(row[columns["prompt"]], row[columns["response"]], index)


TASK = Chat()
