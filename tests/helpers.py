"""Data, settings and helpers shared by the tests: tiny corpora and the flags of tiny runs.

Nothing here touches the network: models are presets built from config, and the data is written by
the tests themselves, shaped like real data (code for language modelling, function/summary pairs,
text/label rows for classification).
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from studio.cli import main
from studio.core.data import answers, columns

WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "theta", "kappa", "lambda", "sigma", "omega", "value", "count", "total", "index", "result", "item", "list", "name", "path", "file", "data", "model", "token"]
# Three classes a tiny model tells apart within a few dozen steps: each has words of its own.
TOPICS = {
    "maths": ["sum", "product", "total", "mean", "square", "root", "divide", "multiply", "angle", "number"],
    "files": ["open", "read", "write", "path", "folder", "close", "save", "load", "disk", "bytes"],
    "network": ["socket", "send", "receive", "host", "port", "request", "response", "connect", "url", "server"],
}


def lm_lines(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    lines = []
    for i in range(n):
        a, b = rng.choice(WORDS), rng.choice(WORDS)
        lines.append(f"def {a}_{i % 17}({b}):\n    return {b} + {i % 9}  # {a} {b}")
    return lines


def pairs(n: int, seed: int = 1) -> list[dict[str, str]]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        a, b = rng.choice(WORDS), rng.choice(WORDS)
        rows.append({"source": f"def {a}_{b}(x, y):\n    total = x + y\n    return total * {i % 5}",
                     "target": f"Return the {a} {b} total."})
    return rows


def labelled(n: int, seed: int = 2) -> list[dict[str, str]]:
    """Rows of `text` and `label`: a few words of the label's topic among common words."""
    rng = random.Random(seed)
    names = sorted(TOPICS)
    rows = []
    for i in range(n):
        label = names[i % len(names)]
        words = rng.sample(TOPICS[label], 3) + rng.sample(WORDS, 3)
        rng.shuffle(words)
        rows.append({"text": " ".join(words), "label": label})
    return rows


PLACES_OF_STORIES = ["river", "mountain", "garden", "castle", "harbor", "forest", "desert", "island", "valley",
                     "market", "library", "station", "kitchen", "bridge", "meadow", "temple", "village", "canyon"]


def stories(n: int, seed: int = 5) -> list[dict[str, str]]:
    """Documents of twelve sentences about one place each, for next-sentence prediction: a sentence from
    another document names another place, so a tiny model can learn which sentence follows."""
    rng = random.Random(seed)
    rows = []
    for d in range(n):
        place = PLACES_OF_STORIES[d % len(PLACES_OF_STORIES)]
        rows.append({"text": " ".join(f"The {place} {rng.choice(['holds', 'shows', 'keeps', 'hides'])} {k} stones."
                                      for k in range(12))})
    return rows


PEOPLE = ["Alice", "Bob", "Carol", "Dmitri", "Eve", "Farid", "Mary Ann", "Jean Luc"]
PLACES = ["Paris", "London", "Lagos", "Lima", "Oslo", "New York", "Kuala Lumpur"]
FILLER = ["lives", "in", "works", "near", "visited", "left", "for", "met", "with", "and", "then"]


def questions(n: int, seed: int = 6) -> list[dict[str, Any]]:
    """SQuAD-shaped rows: a context of three sentences about people and places, a question each answers."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        first, second = rng.sample(PEOPLE, 2)
        home, work = rng.sample(PLACES, 2)
        count = str(rng.randint(2, 9))
        context = f"{first} lives in {home}. {second} works in {work}. {first} has {count} cats."
        question, answer, start = [
            (f"Where does {first} live?", home, context.index(home)),
            (f"Who works in {work}?", second, context.index(second)),
            (f"How many cats does {first} have?", count, context.rindex(count)),
        ][i % 3]
        rows.append({"question": question, "context": context, "answers": {"text": [answer], "answer_start": [start]}})
    return rows


def tagged(n: int, seed: int = 3) -> list[dict[str, list[str]]]:
    """Sentences of people and places with BIO tags (two-word names make I- tags)."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        words: list[str] = []
        tags: list[str] = []
        for kind, names in (("PER", PEOPLE), ("LOC", PLACES), ("PER", PEOPLE)):
            pieces = rng.choice(names).split()
            words += pieces
            tags += [f"B-{kind}"] + [f"I-{kind}"] * (len(pieces) - 1)
            filler = rng.sample(FILLER, 2)
            words += filler
            tags += ["O"] * len(filler)
        rows.append({"tokens": words, "tags": tags})
    return rows


TINY_LM = ["--vocab-size", "400", "--seq-len", "32", "--batch-size", "8", "--max-steps", "24",
           "--eval-every", "8", "--save-every", "8", "--lr", "3e-3", "--device", "cpu"]
PROBE = ["--probe-text", "def total(x, y):\n    return x + y"]
TINY_SUM = ["--task", "summarize", "--model", "bart-tiny", "--vocab-size", "400", "--seq-len", "48",
            "--target-len", "16", "--batch-size", "8", "--max-steps", "16", "--eval-every", "8",
            "--save-every", "8", "--lr", "3e-3", "--device", "cpu"]
TINY_CLS = ["--task", "classify", "--model", "bert-tiny", "--vocab-size", "400", "--seq-len", "32",
            "--batch-size", "16", "--max-steps", "40", "--eval-every", "20", "--save-every", "20", "--lr", "1e-3",
            "--validation-fraction", "0.2", "--device", "cpu"]


TINY_MLM = ["--task", "mlm", "--model", "bert-tiny", "--vocab-size", "400", "--seq-len", "32", "--batch-size", "16",
            "--max-steps", "30", "--eval-every", "15", "--save-every", "15", "--lr", "1e-3", "--device", "cpu"]
TINY_NSP = [*TINY_MLM, "--nsp", "--max-steps", "40", "--eval-every", "20", "--save-every", "20", "--lr", "2e-3"]
TINY_QA = ["--task", "qa", "--model", "bert-tiny", "--vocab-size", "400", "--seq-len", "48", "--batch-size", "16",
           "--max-steps", "40", "--eval-every", "20", "--save-every", "20", "--lr", "2e-3", "--stride", "8",
           "--validation-fraction", "0.2", "--device", "cpu"]
TINY_TAG = ["--task", "tag", "--model", "bert-tiny", "--vocab-size", "400", "--seq-len", "32", "--batch-size", "16",
            "--max-steps", "40", "--eval-every", "20", "--save-every", "20", "--lr", "1e-3",
            "--validation-fraction", "0.2", "--device", "cpu"]


def train_cli(workspace: Path, out: Path, data: Path | str, extra: list[str]) -> int:
    return main(["--workspace", str(workspace), "train", "--data", str(data), "--out", str(out), *extra])


def _permute(weights: Any, heads: int) -> Any:
    """llama.cpp's order of the query and key rows (its rotary embedding pairs them differently)."""
    return weights.reshape(heads, 2, weights.shape[0] // heads // 2, *weights.shape[1:]).swapaxes(1, 2).reshape(
        weights.shape)


CHAT_TEXTS = ["What does len do? It returns the number of items. And abs? The absolute value. Answer in one line.\n"
              * 30]


def write_chat_model(folder: Path) -> None:
    """A tiny random Llama with a ChatML tokenizer (its turn end its end token), saved as a model folder."""
    import torch

    from studio.core.data import chat_templates
    from studio.core.data.tokenizer import save_tokenizer, train_bpe
    from studio.core.modeling import presets

    tok = train_bpe(CHAT_TEXTS, 400, family="llama")
    chat_templates.apply(tok, "chatml")
    save_tokenizer(tok, folder)  # it writes a fresh folder
    torch.manual_seed(0)  # the same weights in every session, so what tests measure of it does not vary
    presets.build("llama-tiny", tok, "AutoModelForCausalLM").save_pretrained(folder)


def write_llama_gguf(model, tokenizer, path) -> None:
    """What llama.cpp's converter writes for a Llama, in full precision, through the gguf package's names."""
    import gguf

    c = model.config
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_context_length(c.max_position_embeddings)
    writer.add_embedding_length(c.hidden_size)
    writer.add_block_count(c.num_hidden_layers)
    writer.add_feed_forward_length(c.intermediate_size)
    writer.add_head_count(c.num_attention_heads)
    writer.add_head_count_kv(c.num_key_value_heads)
    writer.add_rope_freq_base(float(c.rope_parameters["rope_theta"]))
    writer.add_layer_norm_rms_eps(c.rms_norm_eps)
    writer.add_vocab_size(c.vocab_size)
    writer.add_rope_dimension_count(c.hidden_size // c.num_attention_heads)
    tokens = [t for t, _ in sorted(tokenizer.get_vocab().items(), key=lambda item: item[1])]
    special = set(tokenizer.all_special_tokens)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(tokens)
    writer.add_token_types([gguf.TokenType.CONTROL if t in special else gguf.TokenType.NORMAL for t in tokens])
    merges = json.loads(tokenizer.backend_tokenizer.to_str())["model"]["merges"]
    writer.add_token_merges([m if isinstance(m, str) else " ".join(m) for m in merges])
    writer.add_bos_token_id(tokenizer.bos_token_id)
    writer.add_eos_token_id(tokenizer.eos_token_id)
    writer.add_pad_token_id(tokenizer.pad_token_id)
    writer.add_chat_template(tokenizer.chat_template)
    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, c.num_hidden_layers)
    for name, tensor in model.state_dict().items():
        if name == "lm_head.weight" and c.tie_word_embeddings:
            continue
        data = tensor.float().numpy()
        if name.endswith("q_proj.weight"):
            data = _permute(data, c.num_attention_heads)
        if name.endswith("k_proj.weight"):
            data = _permute(data, c.num_key_value_heads)
        writer.add_tensor(names.get_name(name, try_suffixes=(".weight", ".bias")), data)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def task_rows(task: Any, n: int = 120) -> list[dict]:
    """Rows with a column for each of the task's roles, named by its first guess, filled by its kind."""
    rng = random.Random(0)
    names = sorted(TOPICS)
    rows = []
    for i in range(n):
        label = names[i % len(names)]
        topical, common = rng.sample(TOPICS[label], 2), rng.sample(WORDS, 6)
        words = topical + common
        tags = [f"B-{label.upper()}"] * len(topical) + ["O"] * len(common)
        # short enough that the answer starts within the 16 tokens every task is given here
        chat = [{"role": "user", "content": " ".join(common[:2])}, {"role": "assistant", "content": " ".join(topical)}]
        by_kind = {columns.TEXT: " ".join(words), columns.LABEL: label, columns.WORDS: words, columns.TAGS: tags,
                   columns.CONVERSATION: chat, answers.ANSWERS: {"text": [topical[0]], "answer_start": [0]}}
        # a text of its own for each role that takes text or messages (a prompt and its two answers)
        rows.append({column.guesses[0]: " ".join(rng.sample(WORDS, 3)) if column.kind is columns.TURNS
                     else by_kind[column.kind] for column in task.columns})
    return rows
