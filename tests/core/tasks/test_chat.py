"""The chat task: conversations in every shape read the same, the loss is on the assistant's tokens as
transformers marks them, `studio chat` answers as plain `generate` does, `studio evaluate` gives the plain
loss, and bad input is a sentence naming the row."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import datasets
import pytest

from studio.cli import main
from studio.core.data import chat_templates
from studio.core.data.chat_encoding import IGNORE
from studio.core.data.columns import map_columns
from studio.core.data.tokenizer import save_tokenizer, train_bpe
from studio.core.errors import DataError
from studio.core.modeling import presets
from studio.core.tasks import chat, registry
from studio.core.tasks.base import TaskConfig
from tests.helpers import CHAT_TEXTS

TASK = chat.TASK
CONVERSATION = [{"role": "system", "content": "Answer in one line."},
                {"role": "user", "content": "What does len do?"},
                {"role": "assistant", "content": "It returns the number of items."},
                {"role": "user", "content": "And abs?"},
                {"role": "assistant", "content": "It returns the absolute value."}]
CONFIG = TaskConfig(256, {"chat_template": "", "train_on_prompt": False})
FLAGS = {c.role: c.flag for c in registry.column_roles()}


def _tokenizer():
    """A Llama-family tokenizer as a preset trains it: it carries ChatML, its turn end not yet its end token."""
    return train_bpe(CHAT_TEXTS, 400, family="llama")


def _encoded(rows: list[dict], tok, config: TaskConfig = CONFIG):
    ds = datasets.Dataset.from_list(rows)
    columns = map_columns(ds, TASK.columns, {}, FLAGS)
    ds, _ = TASK.inspect(ds, columns, FLAGS)
    return TASK.encode(ds, tok, columns, config, ordered=False)


@pytest.fixture(scope="module")
def plain_model(tmp_path_factory) -> Path:
    """A tiny random GPT-2 whose tokenizer has no chat template, as a base model comes."""
    tok = train_bpe(CHAT_TEXTS, 400, family="gpt2")
    folder = tmp_path_factory.mktemp("plain-model")
    save_tokenizer(tok, folder)
    presets.build("gpt-tiny", tok, TASK.auto_class).save_pretrained(folder)
    return folder


def test_labels_are_the_ids_where_transformers_marks_the_assistant():
    tok = _tokenizer()
    TASK.adapt_tokenizer(tok, CONFIG, "llama-tiny")
    encoded, stats = _encoded([{"messages": CONVERSATION}], tok)
    plain = tok.apply_chat_template(CONVERSATION, tokenize=True, return_dict=True, return_assistant_tokens_mask=True)
    assert encoded[0]["input_ids"] == list(plain["input_ids"])
    assert encoded[0]["labels"] == [i if m else IGNORE for i, m in zip(plain["input_ids"], plain["assistant_masks"])]
    assert tok.decode([i for i in encoded[0]["labels"] if i != IGNORE]) == \
        "It returns the number of items.<|im_end|>It returns the absolute value.<|im_end|>"
    assert stats["cut_conversations"] == 0 and stats["conversation"]["rows"] == 1


def test_every_shape_of_the_same_conversation_gives_the_same_tokens():
    tok = _tokenizer()
    TASK.adapt_tokenizer(tok, CONFIG, "llama-tiny")
    one = CONVERSATION[1:3]
    shapes = [
        [{"messages": one}],
        [{"conversations": [{"from": "human", "value": one[0]["content"]}, {"from": "gpt", "value": one[1]["content"]}]}],
        [{"prompt": one[0]["content"], "response": one[1]["content"]}],
        [{"instruction": one[0]["content"], "input": "", "output": one[1]["content"]}],
    ]
    results = [_encoded(rows, tok)[0][0] for rows in shapes]
    assert all(r == results[0] for r in results[1:])
    alpaca, _ = _encoded([{"instruction": "Add these.", "input": "1 and 2", "output": "3"}], tok)
    assert "Add these.\n\n1 and 2" in tok.decode(alpaca[0]["input_ids"])


def test_the_columns_of_each_shape_are_found_and_a_choice_picks_its_shape():
    def mapped(wanted=None, **columns):
        return map_columns(datasets.Dataset.from_dict(columns), TASK.columns, wanted or {}, FLAGS)

    messages = [[{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]]
    # ultrachat's columns: the messages column is the conversation; its prompt column is left alone
    assert mapped(prompt=["a"], prompt_id=["1"], messages=messages) == {"messages": "messages"}
    assert mapped(instruction=["a"], input=[""], output=["b"]) == {"prompt": "instruction", "response": "output",
                                                                   "input": "input"}
    assert mapped(instruction=["a"], output=["b"], category=["c"]) == {"prompt": "instruction", "response": "output"}
    assert mapped({"prompt": "q", "response": "a"}, q=["x"], a=["y"], messages=messages) == {"prompt": "q",
                                                                                             "response": "a"}
    with pytest.raises(DataError, match="--messages-column, or the prompt with --prompt-column and the response "
                                        "with --response-column"):
        mapped(q=["x"], a=["y"])
    with pytest.raises(DataError, match="does not hold a conversation per row"):
        mapped({"messages": "q"}, q=["x"], a=["y"])


def test_a_model_claims_the_chat_task_by_its_template():
    tok = _tokenizer()
    config = presets.build("llama-tiny", tok, TASK.auto_class).config
    assert registry.for_model(config, None, tok) is TASK
    tok.chat_template = None
    assert registry.for_model(config, None, tok).name == "lm"


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _conversations(n: int) -> list[dict]:
    return [{"messages": [{"role": "user", "content": f"What is {i} plus {i}?"},
                          {"role": "assistant", "content": f"{i} plus {i} is {2 * i}."}]} for i in range(n)]


def test_a_chat_run_learns_the_answers_and_exports_its_template(ws, tmp_path, capsys):
    rows = [{"messages": c["messages"] + [{"role": "user", "content": "And times two?"},
                                          {"role": "assistant", "content": f"It is {4 * i}."}]}
            for i, c in enumerate(_conversations(60))]
    long = {"messages": [{"role": "user", "content": "Tell me " + "more and " * 40},
                         {"role": "assistant", "content": "No."}]}
    data = _write(tmp_path / "chat.jsonl", rows + [long] * 3)
    run = tmp_path / "run"
    assert main(["train", "--task", "chat", "--data", str(data), "--out", str(run), "--vocab-size", "300",
                 "--seq-len", "32", "--batch-size", "8", "--max-steps", "4", "--eval-every", "4", "--save-every", "4",
                 "--device", "cpu"]) == 0
    said = capsys.readouterr()
    # said, and counted in the run's statistics: the second exchange is left off, the long question left out
    assert re.search(r"\d+ of \d+ conversations are longer than 32 tokens", said.out + said.err)
    assert re.search(r"[123] conversations are left out: their first answer starts after 32", said.out + said.err)
    from transformers import AutoTokenizer

    exported = AutoTokenizer.from_pretrained(run / "model")
    assert exported.chat_template == chat_templates.CHATML and exported.eos_token == "<|im_end|>"
    assert main(["runs", "show", str(run), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["samples"] and info["samples"][0]["prompt"].startswith("What is")
    assert info["samples"][0]["reference"].endswith(".") and "eval_perplexity" in info["history"][-1]


def test_studio_chat_answers_as_plain_generate_does(chat_model, capsys):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    turns = ["What does len do?", "And abs?"]
    assert main(["chat", "--model", str(chat_model), "--system", "Be brief.", "--message", turns[0], "--message",
                 turns[1], "--greedy", "--max-new-tokens", "12", "--device", "cpu", "--json"]) == 0
    messages = json.loads(capsys.readouterr().out)["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user", "assistant"]

    tok = AutoTokenizer.from_pretrained(chat_model)
    model = AutoModelForCausalLM.from_pretrained(chat_model).eval()
    history = [{"role": "system", "content": "Be brief."}]
    for turn in turns:
        history.append({"role": "user", "content": turn})
        ids = tok.apply_chat_template(history, add_generation_prompt=True, return_tensors="pt", return_dict=True)
        with torch.inference_mode():
            out = model.generate(**ids, max_new_tokens=12, do_sample=False, pad_token_id=tok.pad_token_id)
        history.append({"role": "assistant",
                        "content": tok.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)})
    assert messages == history


def test_studio_evaluate_gives_the_plain_loss_on_assistant_tokens(chat_model, tmp_path, capsys):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    rows = [{"messages": CONVERSATION}, {"messages": CONVERSATION[1:3]}]
    data = _write(tmp_path / "eval.jsonl", rows)
    assert main(["evaluate", "--model", str(chat_model), "--data", str(data), "--device", "cpu", "--json"]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert set(scores) == {"loss", "perplexity", "assistant_tokens"}

    tok = AutoTokenizer.from_pretrained(chat_model)
    model = AutoModelForCausalLM.from_pretrained(chat_model).eval()
    total, count = 0.0, 0
    for row in rows:
        out = tok.apply_chat_template(row["messages"], tokenize=True, return_dict=True,
                                      return_assistant_tokens_mask=True)
        ids, mask = torch.tensor([out["input_ids"]]), torch.tensor(out["assistant_masks"])
        with torch.inference_mode():
            logits = model(input_ids=ids).logits[0, :-1]
        losses = torch.nn.functional.cross_entropy(logits, ids[0, 1:], reduction="none")
        total += float(losses[mask[1:] == 1].sum())
        count += int(mask[1:].sum())
    assert scores["assistant_tokens"] == count
    assert scores["loss"] == pytest.approx(total / count, rel=1e-4)
    assert scores["perplexity"] == pytest.approx(math.exp(total / count), rel=1e-4)


@pytest.mark.parametrize("rows, said", [
    ([{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]},
      {"messages": [{"role": "user", "content": "only a question"}]}],
     "Row 2 has no assistant turn"),
    ([{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]},
      {"messages": [{"role": "narrator", "content": "a"}, {"role": "assistant", "content": "b"}]}],
     "Row 2 has a message from 'narrator'"),
])
def test_bad_conversations_are_refused_by_their_row(rows, said, ws, tmp_path, capsys):
    data = _write(tmp_path / "bad.jsonl", rows * 3)
    assert main(["train", "--task", "chat", "--data", str(data), "--out", str(tmp_path / "run"), "--device",
                 "cpu"]) == 2
    assert said in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_templates_that_cannot_be_used_are_sentences(plain_model, ws, tmp_path, capsys):
    data = _write(tmp_path / "chat.jsonl", _conversations(20))
    alternating = tmp_path / "alternating.jinja"  # what Llama 2's and Mistral's templates say
    alternating.write_text("{%- for m in messages %}{%- if (m['role'] == 'user') != (loop.index0 % 2 == 0) %}"
                           "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant') }}"
                           "{%- endif %}{{ m['role'] }}: {{ m['content'] }}\n{%- endfor %}", encoding="utf-8")
    data_with_system = _write(tmp_path / "system.jsonl", [{"messages": [{"role": "system", "content": "s"},
                                                                        *_conversations(1)[0]["messages"]]}] * 20)
    cases = [(["--data", str(data), "--chat-template", "nonesuch"], "neither a known template"),
             (["--data", str(data), "--model", str(plain_model)], "has no chat template, so Studio cannot tell"),
             (["--data", str(data_with_system), "--chat-template", str(alternating)],
              r"Row \d+: the model's chat template refused this conversation \(Conversation roles must alternate")]
    for flags, said in cases:
        out = tmp_path / "run"
        assert main(["train", "--task", "chat", *flags, "--out", str(out), "--vocab-size", "300", "--device",
                     "cpu"]) == 2
        assert re.search(said, capsys.readouterr().err)
        assert not out.exists()


def test_refusals_come_before_the_model_is_built_and_name_what_is_wrong(chat_model, ws, tmp_path, capsys):
    """A broken template file is named with its line before the data is read; a conversation the template refuses,
    a message without its role and a length that leaves no answer are refused before the model is built."""
    data = _write(tmp_path / "chat.jsonl", _conversations(20))
    broken = tmp_path / "broken.jinja"
    broken.write_text("{%- for m in messages %}\n{{ m['role'] }: {{ m['content'] }}{%- endfor %}", encoding="utf-8")
    alternating = tmp_path / "alternating.jinja"
    alternating.write_text("{%- for m in messages %}{%- if (m['role'] == 'user') != (loop.index0 % 2 == 0) %}"
                           "{{ raise_exception('Conversation roles must alternate') }}{%- endif %}"
                           "{{ m['role'] }}: {% generation %}{{ m['content'] }}{% endgeneration %}\n{%- endfor %}",
                           encoding="utf-8")
    rows = _conversations(20)
    rows[6]["messages"][0] = {"content": "no role"}
    no_role = _write(tmp_path / "no-role.jsonl", rows)
    twice = _write(tmp_path / "twice.jsonl", [{"messages": [{"role": "user", "content": "a"},
                                                            {"role": "user", "content": "b"},
                                                            {"role": "assistant", "content": "c"}]}] * 20)
    cases = [(["--data", str(data), "--chat-template", str(broken)],
              f"The chat template file '{broken}' has a Jinja error on line 2: unexpected '}}'", False),
             (["--data", str(twice), "--chat-template", str(alternating)],
              "Row 1: the model's chat template refused this conversation (Conversation roles must alternate)", True),
             (["--data", str(no_role)], 'Row 7: message 1 has no "role" (it has "content")', True),
             (["--data", str(data), "--seq-len", "8"], "No conversation has an answer that starts within 8 tokens", True)]
    for flags, said, data_read in cases:
        out = tmp_path / "run"
        assert main(["train", "--task", "chat", "--model", str(chat_model), *flags, "--out", str(out), "--device",
                     "cpu"]) == 2
        err = capsys.readouterr().err
        assert said in err and "Traceback" not in err
        assert ("Loading" in err) is data_read and "Building" not in err and "Tokenizing" not in err
        assert not out.exists()


def test_chat_data_trained_as_another_task_says_which_task_reads_it(ws, tmp_path, capsys):
    data = _write(tmp_path / "chat.jsonl", _conversations(20))
    assert main(["train", "--data", str(data), "--out", str(tmp_path / "run"), "--device", "cpu"]) == 2
    assert "The columns fit chat: pass --task chat to train that." in capsys.readouterr().err


def test_an_empty_message_is_refused_before_the_model_loads(chat_model, capsys):
    assert main(["chat", "--model", str(chat_model), "--message", "hi", "--message", " ", "--device", "cpu"]) == 2
    assert capsys.readouterr().err.startswith("studio: A --message is empty, so there is nothing to answer")


def test_chat_refuses_a_model_that_does_not_write_text(cls_run, capsys):
    assert main(["chat", "--model", str(cls_run), "--message", "hello", "--device", "cpu"]) == 2
    assert "does not write text" in capsys.readouterr().err


def test_the_built_in_sample_asks_three_kinds_of_question():
    from itertools import islice

    from studio.core.data import chat_sample

    rows = list(islice(chat_sample.rows(), 300))
    answers = [m["content"] for r in rows for m in r["messages"] if m["role"] == "assistant"]
    assert any(" comes from the " in a for a in answers) and any(a.endswith(")") for a in answers)
    assert any(r["messages"][0]["role"] == "system" for r in rows)
    assert any(len(r["messages"]) >= 6 for r in rows)


def test_lora_on_a_base_without_the_markers_trains_their_embeddings_and_the_adapter_loads(plain_model, ws, tmp_path,
                                                                                          capsys):
    import torch
    from safetensors import safe_open

    from studio.core.tasks import loaded as inference

    data = _write(tmp_path / "chat.jsonl", _conversations(40))
    run = tmp_path / "run"
    assert main(["train", "--task", "chat", "--model", str(plain_model), "--chat-template", "chatml", "--lora",
                 "--data", str(data), "--out", str(run), "--seq-len", "48", "--batch-size", "8", "--max-steps", "3",
                 "--eval-every", "3", "--save-every", "3", "--device", "cpu"]) == 0
    said = capsys.readouterr()
    assert "the 2 new tokens' embeddings among them" in said.out + said.err
    with safe_open(str(run / "adapter" / "adapter_model.safetensors"), "pt") as weights:
        deltas = [k for k in weights.keys() if k.endswith("trainable_tokens_delta")]
        assert deltas and all(weights.get_slice(k).get_shape()[0] == 2 for k in deltas)
    merged, adapter = (inference.load(str(run / where)) for where in ("model", "adapter"))
    assert len(adapter.tokenizer) == len(merged.tokenizer) == merged.model.get_input_embeddings().num_embeddings
    ids = torch.tensor([adapter.tokenizer.apply_chat_template(CONVERSATION[1:3], tokenize=True, return_dict=True)
                        ["input_ids"]])
    with torch.no_grad():
        assert torch.allclose(merged.model(ids).logits, adapter.model(ids).logits, atol=1e-5)


def test_a_models_own_broken_template_is_named_not_blamed_on_a_row(chat_model, ws, tmp_path, capsys):
    import shutil

    broken = tmp_path / "broken-model"
    shutil.copytree(chat_model, broken)
    (broken / "chat_template.jinja").write_text("{%- for m in messages %}{{ m['role'] }: {{ m['content'] }}"
                                                "{%- endfor %}", encoding="utf-8")
    data = _write(tmp_path / "chat.jsonl", _conversations(20))
    assert main(["train", "--task", "chat", "--model", str(broken), "--data", str(data), "--out",
                 str(tmp_path / "run"), "--device", "cpu"]) == 2
    err = capsys.readouterr().err
    assert "The model's chat template has a Jinja error on line 1 (unexpected '}')" in err and "Row" not in err
