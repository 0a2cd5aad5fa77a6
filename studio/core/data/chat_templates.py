"""Chat templates for models that have none (a base model, a preset), chosen by name or read from a file.

Each marks the assistant's part with `{% generation %}`, so transformers' `apply_chat_template(...,
return_assistant_tokens_mask=True)` tells which tokens are the assistant's: the end-of-turn marker is
inside, the next turn's header outside. The template and its markers are saved with the tokenizer, so
plain transformers and other runtimes apply it to the tuned model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from studio.core.errors import ConfigError

CHATML = (
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' }}"
    "{%- if message['role'] == 'assistant' %}"
    "{% generation %}{{- message['content'] + '<|im_end|>' }}{% endgeneration %}{{- '\\n' }}"
    "{%- else %}{{- message['content'] + '<|im_end|>\\n' }}{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}")

LLAMA3 = (
    "{{- bos_token }}"
    "{%- for message in messages %}"
    "{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' }}"
    "{%- if message['role'] == 'assistant' %}"
    "{% generation %}{{- message['content'] | trim + '<|eot_id|>' }}{% endgeneration %}"
    "{%- else %}{{- message['content'] | trim + '<|eot_id|>' }}{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}")

# Gemma has no system role: a system message goes at the top of the first user turn, as Google's does
GEMMA = (
    "{{- bos_token }}"
    "{%- if messages and messages[0]['role'] == 'system' %}"
    "{%- set system = messages[0]['content'] | trim + '\\n\\n' %}{%- set turns = messages[1:] %}"
    "{%- else %}{%- set system = '' %}{%- set turns = messages %}{%- endif %}"
    "{%- for message in turns %}"
    "{%- if message['role'] == 'assistant' %}"
    "{{- '<start_of_turn>model\\n' }}"
    "{% generation %}{{- message['content'] | trim + '<end_of_turn>' }}{% endgeneration %}{{- '\\n' }}"
    "{%- else %}"
    "{{- '<start_of_turn>user\\n' + (system if loop.first else '') + message['content'] | trim + '<end_of_turn>\\n' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<start_of_turn>model\\n' }}{%- endif %}")

TEMPLATES = {"chatml": CHATML, "llama3": LLAMA3, "gemma": GEMMA}
# the markers each template writes, which a tokenizer must keep whole (as special tokens)
MARKERS = {"chatml": ("<|im_start|>", "<|im_end|>"),
           "llama3": ("<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"),
           "gemma": ("<bos>", "<start_of_turn>", "<end_of_turn>")}
# what ends an assistant's turn, which generation stops at
TURN_END = {"chatml": "<|im_end|>", "llama3": "<|eot_id|>", "gemma": "<end_of_turn>"}


def resolve(choice: str) -> str:
    """The Jinja text of a template named `choice` (chatml, llama3, gemma) or kept in the file `choice`."""
    if choice in TEMPLATES:
        return TEMPLATES[choice]
    path = Path(choice).expanduser()
    if path.is_file():
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"The chat template file '{choice}' cannot be read ({exc}).") from None
    raise ConfigError(f"--chat-template '{choice}' is neither a known template ({', '.join(TEMPLATES)}) nor a "
                      "file; name one of those, or give the path of a Jinja template file.")


def check(choice: str) -> None:
    """Refuse, before any data is read, a template that is neither known nor a readable Jinja file, or whose
    Jinja has a syntax error (named by its file and line, not blamed on a conversation later)."""
    from jinja2 import TemplateSyntaxError, nodes
    from jinja2.ext import Extension
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class Generation(Extension):
        """transformers' {% generation %} block, parsed as a plain one: only the syntax is checked here, and the
        wizard checks it as a person types, where importing transformers' compiler would hold the window a second
        (transformers compiles the template itself when it renders one)."""

        tags = {"generation"}

        def parse(self, parser: Any) -> Any:
            lineno = next(parser.stream).lineno
            return nodes.Scope(parser.parse_statements(("name:endgeneration",), drop_needle=True)).set_lineno(lineno)

    text = resolve(choice)
    try:
        ImmutableSandboxedEnvironment(extensions=[Generation]).parse(text)
    except TemplateSyntaxError as exc:
        raise ConfigError(f"The chat template file '{choice}' has a Jinja error on line {exc.lineno}: {exc.message}; "
                          "fix the file, or choose chatml, llama3 or gemma.") from None


def apply(tokenizer: Any, choice: str, *, turn_end_is_eos: bool = True) -> list[str]:
    """Give `tokenizer` the template `choice`, with its markers as special tokens (so they are never split)
    and, unless told otherwise, its turn end as the end-of-sequence token; the markers that were new to the
    tokenizer (the model's embeddings must grow by that many)."""
    tokenizer.chat_template = resolve(choice)
    markers = MARKERS.get(choice, ())
    vocab = tokenizer.get_vocab()
    new = [m for m in markers if m not in vocab]
    if new:
        tokenizer.add_special_tokens({"additional_special_tokens": new}, replace_extra_special_tokens=False)
    if choice == "llama3" or choice == "gemma":
        tokenizer.bos_token = markers[0]
    if choice in TURN_END and turn_end_is_eos:
        tokenizer.eos_token = TURN_END[choice]
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return new


def stop_ids(tokenizer: Any, model_eos: Any = None) -> list[int]:
    """The ids that end an assistant's turn: the end-of-sequence token, the model's own (its generation
    config may name several), and the turn-end marker of any known template the vocabulary has."""
    found = [tokenizer.eos_token_id] + (model_eos if isinstance(model_eos, list) else [model_eos])
    vocab = tokenizer.get_vocab()
    found += [vocab[marker] for marker in TURN_END.values() if marker in vocab]
    return list(dict.fromkeys(i for i in found if i is not None))
