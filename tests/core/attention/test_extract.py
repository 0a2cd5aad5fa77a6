"""Attention weights of one forward pass: their shapes and tokens for a decoder and an encoder-decoder,
rows that are distributions, refusals in a sentence, and the files they are saved to."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from studio.core.attention import extract as attention
from studio.core.data.tokenizer import train_bpe
from studio.core.errors import ConfigError
from studio.core.modeling import presets
from studio.core.modeling.loaded import LoadedModel
from studio.core.tasks import registry

TEXTS = ["def add(a, b):\n    return a + b\n" * 20, "Return the sum of two numbers.\n" * 20]


def _rows(t: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = np.tril(rng.random((2, 3, t, t), dtype=np.float32) + 0.01)
    return a / a.sum(-1, keepdims=True)


def _loaded(preset: str, task: str, family: str) -> LoadedModel:
    tokenizer = train_bpe(TEXTS, 300, family=family)
    torch.manual_seed(0)
    model = presets.build(preset, tokenizer, registry.get(task).auto_class).eval()
    model.set_attn_implementation("eager")
    return LoadedModel(model, tokenizer, registry.get(task), "cpu", preset)


def test_a_decoder_attends_backwards_in_distributions_over_its_tokens():
    loaded = _loaded("gpt-tiny", "lm", "gpt2")
    found = attention.extract(loaded, "return a + b")
    layers, heads = loaded.model.config.n_layer, loaded.model.config.n_head
    t = len(found.tokens)
    assert found.attentions.shape == (layers, heads, t, t) and not found.is_encoder_decoder
    assert "".join(found.tokens) == "return a + b"
    assert np.allclose(found.attentions.sum(-1), 1.0, atol=1e-5)
    assert np.allclose(np.triu(found.attentions, k=1), 0.0)  # nothing looks ahead
    assert list(found.views()) == ["self"]


def test_an_encoder_decoder_has_its_three_kinds_over_the_target_it_was_given():
    loaded = _loaded("bart-tiny", "summarize", "bart")
    found = attention.extract(loaded, "def add(a, b): return a + b", target="Return the sum.")
    assert found.is_encoder_decoder and list(found.views()) == ["encoder", "decoder", "cross"]
    cross, rows, columns = found.views()["cross"]
    assert cross.shape[2:] == (len(found.decoder_tokens), len(found.encoder_tokens))
    assert rows == found.decoder_tokens and columns == found.encoder_tokens
    assert found.encoder_tokens[0] == "<s>" and found.encoder_tokens[-1] == "</s>"
    assert np.allclose(cross.sum(-1), 1.0, atol=1e-5)


def test_refusals_say_what_to_do():
    loaded = _loaded("gpt-tiny", "lm", "gpt2")
    with pytest.raises(ConfigError, match="no text to look at"):
        attention.extract(loaded, "   ")
    loaded.model.set_attn_implementation("sdpa")
    with pytest.raises(ConfigError, match="attn_implementation='eager'"):
        attention.extract(loaded, "return a")


def test_npz_round_trip(tmp_path):
    att = attention.Attention(tokens=["a", "b"], attentions=_rows(2))
    att.save_npz(tmp_path / "x.npz")
    back = attention.Attention.load_npz(tmp_path / "x.npz")
    assert back.tokens == ["a", "b"] and np.array_equal(back.attentions, att.attentions)
    (tmp_path / "bad.npz").write_text(json.dumps({"no": 1}))
    with pytest.raises(Exception, match="not a readable attention file"):
        attention.Attention.load_npz(tmp_path / "bad.npz")


def test_one_matrix_as_csv(tmp_path):
    attention.write_csv(tmp_path / "m.csv", np.array([[1.0, 0.0], [0.25, 0.75]]), ["a", "b"], ["a", "b"])
    assert (tmp_path / "m.csv").read_text(encoding="utf-8").splitlines() == [
        "from \\ to,a,b", "a,1,0", "b,0.25,0.75"]


def test_a_question_and_its_context_are_read_as_a_pair_with_their_token_types():
    loaded = _loaded("bert-tiny", "qa", "bert")
    question, context = "what does add return", "def add(a, b): return a + b"
    found = attention.extract(loaded, question, pair=context)
    expected = loaded.tokenizer(question, context, return_token_type_ids=True)
    assert found.tokens == [loaded.tokenizer.decode([i]) for i in expected["input_ids"]]
    assert found.tokens[0] == "[CLS]" and found.tokens.count("[SEP]") == 2
    second = found.tokens.index("[SEP]") + 1
    assert found.turns() == [("question", 0, second), ("context", second, len(found.tokens))]
    ids = torch.tensor([expected["input_ids"]])
    with torch.inference_mode():
        typed = loaded.model(ids, token_type_ids=torch.tensor([expected["token_type_ids"]]), output_attentions=True)
        untyped = loaded.model(ids, output_attentions=True)
    assert np.allclose(found.attentions[0], typed.attentions[0][0].numpy(), atol=1e-6)
    assert not np.allclose(found.attentions[0], untyped.attentions[0][0].numpy(), atol=1e-6)


def test_a_pair_is_refused_by_an_encoder_decoder_and_cut_to_the_models_length():
    with pytest.raises(ConfigError, match="reads one text"):
        attention.extract(_loaded("bart-tiny", "summarize", "bart"), "a question", pair="a context")
    loaded = _loaded("bert-tiny", "qa", "bert")
    loaded.settings = {"seq_len": 24}
    found = attention.extract(loaded, "what does add return", pair="def add(a, b): return a + b " * 20)
    assert len(found.tokens) == 24 and found.tokens[-1] == "[SEP]" and [r for r, _, _ in found.turns()] == \
        ["question", "context"]
