"""The mean-pooling layer: a plain BERT layer whose [CLS] output starts as the layer-normalised mean of the
tokens (padding left out), added only to encoders laid out as BERT's."""

from __future__ import annotations

import torch
from transformers import BertConfig, BertForSequenceClassification, GPT2Config, GPT2ForSequenceClassification

from studio.core.modeling import pooling


def _bert() -> BertForSequenceClassification:
    torch.manual_seed(0)
    config = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=32, num_labels=3)
    return BertForSequenceClassification(config).eval()


def test_the_added_layer_starts_as_the_mean_of_the_tokens():
    model = _bert()
    ids = torch.tensor([[2, 7, 9, 11, 3], [2, 5, 3, 0, 0]])
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]])
    with torch.no_grad():
        before = model.bert(input_ids=ids, attention_mask=mask).last_hidden_state
    assert pooling.add_mean_pooling_layer(model)
    assert model.config.num_hidden_layers == 3 and len(model.bert.encoder.layer) == 3
    with torch.no_grad():
        after = model.bert(input_ids=ids, attention_mask=mask).last_hidden_state
    weights = mask.unsqueeze(-1).float()
    mean = (before * weights).sum(1) / weights.sum(1)
    norm = torch.nn.functional.layer_norm
    expected = norm(norm(before[:, 0] + mean, (16,), eps=model.config.layer_norm_eps), (16,),
                    eps=model.config.layer_norm_eps)
    assert torch.allclose(after[:, 0], expected, atol=1e-5)


def test_a_flat_first_token_is_measured_as_flat():
    model = _bert()
    tokenizer = _Tokenizer()
    spread = pooling.first_token_spread(model, tokenizer, ["a b c", "d e f g", "h i"], 8)
    assert spread is not None and spread > 0
    with torch.no_grad():  # a [CLS] that attends to itself alone says the same for every text
        for layer in model.bert.encoder.layer:
            layer.attention.self.query.weight.zero_()
            layer.attention.self.key.weight.zero_()
            layer.attention.self.value.weight.zero_()
    assert pooling.first_token_spread(model, tokenizer, ["a b c", "d e f g", "h i"], 8) < pooling.FLAT


def test_a_decoder_gets_no_layer():
    model = GPT2ForSequenceClassification(GPT2Config(n_embd=16, n_layer=1, n_head=2, vocab_size=50))
    assert not pooling.add_mean_pooling_layer(model)
    assert model.config.n_layer == 1


class _Tokenizer:
    """Words to ids with [CLS] first and padding, as a BERT tokenizer gives them."""

    def __call__(self, texts, padding, truncation, max_length, return_tensors):
        rows = [[2] + [5 + ord(w[0]) % 40 for w in t.split()][:max_length - 1] for t in texts]
        width = max(map(len, rows))
        return {"input_ids": torch.tensor([r + [0] * (width - len(r)) for r in rows]),
                "attention_mask": torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows])}
