"""The chat templates offered to models without one: chosen by name or file, their markers kept whole,
and saved with the tokenizer so plain transformers applies them."""

from __future__ import annotations

import pytest
from transformers import AutoTokenizer

from studio.core.data import chat_templates
from studio.core.data.tokenizer import save_tokenizer, train_bpe
from studio.core.errors import ConfigError

MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "hello"}]


def _tokenizer():
    return train_bpe(["hi hello be brief\n" * 40], 300, family="gpt2")


@pytest.mark.parametrize("name", ["chatml", "llama3", "gemma"])
def test_markers_are_single_tokens_and_the_turn_end_ends_generation(name, tmp_path):
    tok = _tokenizer()
    before = len(tok)
    new = chat_templates.apply(tok, name)
    assert len(tok) == before + len(new) and new
    for marker in chat_templates.MARKERS[name]:
        assert len(tok(marker, add_special_tokens=False)["input_ids"]) == 1
    assert tok.eos_token == chat_templates.TURN_END[name]
    save_tokenizer(tok, tmp_path / "tok")
    plain = AutoTokenizer.from_pretrained(tmp_path / "tok")
    assert plain.apply_chat_template(MESSAGES, tokenize=False) == tok.apply_chat_template(MESSAGES, tokenize=False)


def test_each_template_writes_its_own_turns():
    rendered = {}
    for name in chat_templates.TEMPLATES:
        tok = _tokenizer()
        chat_templates.apply(tok, name)
        rendered[name] = tok.apply_chat_template(MESSAGES, tokenize=False, add_generation_prompt=False)
    assert rendered["chatml"] == ("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n"
                                  "<|im_start|>assistant\nhello<|im_end|>\n")
    assert rendered["llama3"].startswith("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.")
    # Gemma has no system role: it opens the first user turn
    assert rendered["gemma"] == ("<bos><start_of_turn>user\nBe brief.\n\nhi<end_of_turn>\n"
                                 "<start_of_turn>model\nhello<end_of_turn>\n")


def test_a_template_from_a_file_or_a_sentence(tmp_path):
    path = tmp_path / "mine.jinja"
    path.write_text("{% for m in messages %}{{ m['content'] }}{% endfor %}", encoding="utf-8")
    assert chat_templates.resolve(str(path)).startswith("{% for m")
    with pytest.raises(ConfigError, match="neither a known template .*chatml, llama3, gemma"):
        chat_templates.resolve("vicuna")
