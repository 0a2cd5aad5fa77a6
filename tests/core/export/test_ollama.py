"""The Modelfile's TEMPLATE renders a conversation (a system prompt, several turns) to the same text as the
tokenizer's own chat template, for each layout Studio writes, and its stop tokens end the model's turns."""

from __future__ import annotations

import pytest

from studio.core.data import chat_templates
from studio.core.data.tokenizer import train_bpe
from studio.core.export import ollama
from tests import go_template
from tests.helpers import CHAT_TEXTS

CONVERSATION = [{"role": "system", "content": "Answer in one line."},
                {"role": "user", "content": "What does len do?"},
                {"role": "assistant", "content": "It returns the number of items."},
                {"role": "user", "content": "And abs?"},
                {"role": "assistant", "content": "The absolute value."},
                {"role": "user", "content": "Thanks! And zip?"}]
# SmolLM2-Instruct's own template: ChatML that opens a conversation without a system prompt with its own
SMOLLM2 = ("{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
           "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}"
           "{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
           "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")


def _tokenizer(template: str):
    tok = train_bpe(CHAT_TEXTS, 400, family="gpt2")
    if template in chat_templates.TEMPLATES:
        chat_templates.apply(tok, template)
    else:
        chat_templates.apply(tok, "chatml")
        tok.chat_template = template
    return tok


def _expected(tok, messages) -> str:
    text = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    # llama.cpp puts the BOS token in front when it tokenizes, so an Ollama template leaves it out
    return text.removeprefix(tok.bos_token) if tok.bos_token and "bos_token" in tok.chat_template else text


@pytest.mark.parametrize(("template", "family", "system"), [
    ("chatml", "chatml", ""), ("llama3", "llama3", ""),
    (SMOLLM2, "chatml", "You are a helpful AI assistant named SmolLM, trained by Hugging Face")])
@pytest.mark.parametrize("with_system", [True, False])
def test_the_modelfile_template_renders_what_the_chat_template_does(template, family, system, with_system):
    tok = _tokenizer(template)
    made = ollama.write(tok, "model.gguf", {"temperature": 0.7, "top_p": 0.9, "do_sample": True})
    assert made.family == family and not made.notes
    go = made.text.split('TEMPLATE """', 1)[1].split('"""', 1)[0]
    given = made.text.split('SYSTEM """', 1)[1].split('"""', 1)[0] if 'SYSTEM """' in made.text else ""
    assert given == system
    messages = CONVERSATION if with_system else CONVERSATION[1:]
    assert go_template.render(go, messages, given) == _expected(tok, messages)
    assert f'PARAMETER stop "{chat_templates.TURN_END[family]}"' in made.text
    assert "PARAMETER temperature 0.7" in made.text and "PARAMETER top_p 0.9" in made.text
    assert made.text.startswith("FROM ./model.gguf\n")


@pytest.mark.skipif(not go_template.go_available(), reason="Go is not installed; the test renderer checks above")
@pytest.mark.parametrize("template", ["chatml", "llama3", SMOLLM2])
def test_gos_own_text_template_renders_the_same(template):
    tok = _tokenizer(template)
    made = ollama.write(tok, "model.gguf")
    go = made.text.split('TEMPLATE """', 1)[1].split('"""', 1)[0]
    system = made.text.split('SYSTEM """', 1)[1].split('"""', 1)[0] if 'SYSTEM """' in made.text else ""
    for messages in (CONVERSATION, CONVERSATION[1:]):
        assert go_template.render_with_go(go, messages, system) == _expected(tok, messages)


def test_an_unknown_layout_is_left_to_ollama_and_said():
    tok = _tokenizer("gemma")
    made = ollama.write(tok, "model.gguf")
    assert made.family is None and "TEMPLATE" not in made.text
    assert "reads the template inside the GGUF file" in made.notes[0]
    assert 'PARAMETER stop "<end_of_turn>"' in made.text  # its end token still ends a turn


def test_greedy_settings_give_no_sampling_parameters():
    made = ollama.write(_tokenizer("chatml"), "m.gguf", {"temperature": 0.7, "do_sample": False})
    assert "temperature" not in made.text
