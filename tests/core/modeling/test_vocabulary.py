"""A fine-tune's frequent words that its borrowed tokenizer spells out become whole tokens, starting as the mean of
their pieces, and stay so in the run's saved tokenizer."""

from __future__ import annotations

import csv
import random

import torch
from transformers import BertConfig, BertForSequenceClassification

from studio.core.data.tokenizer import train_bpe
from studio.core.modeling import vocabulary

_CODE = ["def add(a, b):\n    return a + b\n" * 20, "for i in range(10):\n    print(i)\n" * 20]


def test_spelled_out_words_become_whole_tokens_starting_at_their_pieces():
    tok = train_bpe(_CODE, 300, family="bert")
    texts = ["zorblax quimfet zorblax", "quimfet zorblax", "zorblax once quimfet", "rareword"]
    words = vocabulary.spelled_out(tok, iter(texts))
    assert list(words) == ["zorblax", "quimfet"]  # seen three times or more, most frequent first
    model = BertForSequenceClassification(BertConfig(vocab_size=len(tok), hidden_size=16, num_hidden_layers=1,
                                                     num_attention_heads=2, intermediate_size=32))
    before = model.get_input_embeddings().weight.detach().clone()
    vocabulary.add_words(tok, words)
    model.resize_token_embeddings(len(tok))
    vocabulary.start_embeddings(model, tok, words)
    ids = tok("said zorblax twice")["input_ids"]
    assert "zorblax" in tok.convert_ids_to_tokens(ids) and tok.decode(ids, skip_special_tokens=True) == (
        "said zorblax twice")
    assert "zorblax" not in tok.tokenize("xzorblaxy")  # whole words only
    new = model.get_input_embeddings().weight[tok.convert_tokens_to_ids("zorblax")]
    assert torch.allclose(new, before[words["zorblax"]].mean(0))


def _made_up(path, rows=120):
    r = random.Random(0)
    keys = [["zorblax", "quimfet"], ["travnik", "pelsuro"], ["mendrivo", "skaltun"]]
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        for i in range(rows):
            writer.writerow([f"{r.choice(keys[i % 3])} {r.choice(['plomb', 'vextra', 'gannish'])}", f"c{i % 3}"])
    return path


def test_a_fine_tune_adds_the_words_and_its_model_reads_them_whole(ws, mlm_run, tmp_path, capsys):
    from transformers import AutoTokenizer, pipeline

    from tests.helpers import train_cli

    data = _made_up(tmp_path / "made-up.csv")
    flags = ["--task", "classify", "--model", str(mlm_run), "--max-steps", "2", "--batch-size", "8", "--device", "cpu"]
    out = tmp_path / "run"
    capsys.readouterr()
    assert train_cli(ws, out, data, flags) == 0
    assert "become tokens of their own" in capsys.readouterr().err
    saved = AutoTokenizer.from_pretrained(out / "model")
    assert "zorblax" in saved.tokenize("a zorblax b")
    assert pipeline("text-classification", model=str(out / "model"))("zorblax plomb")[0]["label"] in ("c0", "c1",
                                                                                                      "c2")
    plain = tmp_path / "plain"
    assert train_cli(ws, plain, data, [*flags, "--new-words", "off"]) == 0
    err = capsys.readouterr().err
    assert "cuts your text into pieces" in err and "become tokens of their own" not in err
    assert len(AutoTokenizer.from_pretrained(plain / "model")) < len(saved)
