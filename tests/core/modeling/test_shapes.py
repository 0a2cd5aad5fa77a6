"""The shapes of transformer, and the one place that feeds each."""

from __future__ import annotations

import torch
from transformers import BartConfig, BertConfig, GPT2Config, LlamaConfig

from studio.core.data.tokenizer import train_bpe
from studio.core.modeling import presets, shapes


def test_shape_of_each_family():
    assert shapes.shape(GPT2Config()) == shapes.DECODER
    assert shapes.shape(LlamaConfig()) == shapes.DECODER
    assert shapes.shape(BertConfig()) == shapes.ENCODER
    assert shapes.shape(BertConfig(is_decoder=True)) == shapes.DECODER
    assert shapes.shape(BartConfig()) == shapes.ENCODER_DECODER


def test_continuation_logits_are_the_models_own_next_token_predictions():
    for name, auto in (("gpt-tiny", "AutoModelForCausalLM"), ("bart-tiny", "AutoModelForSeq2SeqLM")):
        tok = train_bpe(["def f(x): return x\n" * 30], 300, family=presets.family(name))
        torch.manual_seed(0)
        model = presets.build(name, tok, auto).eval()
        source, target = tok("def f(x)")["input_ids"], tok("return x", add_special_tokens=False)["input_ids"]
        with torch.inference_mode():
            logits = shapes.continuation_logits(model, source, target)
            if model.config.is_encoder_decoder:
                full = model(input_ids=torch.tensor([source]),
                             decoder_input_ids=torch.tensor([shapes.decoder_sequence(model, target)])).logits[0]
                expected = full[:len(target)]
            else:
                expected = model(input_ids=torch.tensor([source + target])).logits[0, len(source) - 1:-1]
        assert logits.shape == (len(target), len(tok))
        torch.testing.assert_close(logits, expected)
