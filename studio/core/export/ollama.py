"""An Ollama Modelfile for an exported GGUF file: its chat template as Ollama's TEMPLATE, the stop tokens
that end a turn, the default system prompt and sampling settings the model came with.

Ollama's templates are Go templates and a tokenizer's are Jinja; no library turns one into the other, so the
families whose layout is known (ChatML, Llama 3) are recognised by what the model's own template renders,
and written as the Go template that renders the same text. A template of another layout is left to
Ollama, which reads the Jinja template inside the GGUF file itself; the Modelfile then says so.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Go templates over Ollama's .Messages, each rendering exactly what the Jinja template of the same name in
# data.chat_templates renders for a conversation ending on the user's turn (less the BOS token, which
# llama.cpp adds when it tokenizes)
GO_TEMPLATES = {
    "chatml": ("{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}"
               "<|im_start|>assistant\n"),
    "llama3": ("{{- range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>\n\n{{ .Content }}<|eot_id|>"
               "{{- end }}<|start_header_id|>assistant<|end_header_id|>\n\n"),
}
# a conversation whose renders tell the layouts apart
_PROBE = [{"role": "system", "content": "S1"}, {"role": "user", "content": "U1"}, {"role": "assistant", "content": "A1"},
          {"role": "user", "content": "U2"}]
_SYSTEM_MARK = "\x00SYSTEM\x00"
# transformers' generation settings and the Modelfile parameters of the same meaning
_PARAMETERS = {"temperature": "temperature", "top_p": "top_p", "top_k": "top_k", "repetition_penalty": "repeat_penalty"}


@dataclass(frozen=True)
class Modelfile:
    text: str
    family: str | None  # the template layout written as TEMPLATE; None: left to Ollama
    notes: list[str]


def family_of(tokenizer: Any) -> tuple[str | None, str]:
    """The known layout the tokenizer's chat template renders (chatml, llama3), and the system prompt it adds
    when a conversation has none ("" when it adds none); (None, "") for any other layout."""
    from studio.core.data import chat_templates

    own = getattr(tokenizer, "chat_template", None)
    if not own:
        return None, ""
    for name in GO_TEMPLATES:
        known = chat_templates.TEMPLATES[name]
        if _render(tokenizer, _PROBE, own) != _render(tokenizer, _PROBE, known):
            continue
        alone = _render(tokenizer, _PROBE[1:2], own)
        if alone == _render(tokenizer, _PROBE[1:2], known):
            return name, ""
        # a template that opens every conversation with its own system prompt (SmolLM2's does)
        shape = _render(tokenizer, [{"role": "system", "content": _SYSTEM_MARK}, *_PROBE[1:2]], known)
        before, _, after = shape.partition(_SYSTEM_MARK)
        if alone.startswith(before) and alone.endswith(after) and len(alone) >= len(before) + len(after):
            return name, alone[len(before):len(alone) - len(after)]
    return None, ""


def _render(tokenizer: Any, messages: list[dict[str, str]], template: str) -> str:
    return tokenizer.apply_chat_template(messages, chat_template=template, tokenize=False, add_generation_prompt=True)


def write(tokenizer: Any, gguf_name: str, generation: dict[str, Any] | None = None) -> Modelfile:
    """The Modelfile for the GGUF file `gguf_name` beside it, from the exported model's tokenizer and its
    generation config."""
    from studio.core.data import chat_templates

    family, system = family_of(tokenizer)
    lines = [f"FROM ./{gguf_name}", ""]
    notes = []
    if family is not None:
        lines += [f'TEMPLATE """{GO_TEMPLATES[family]}"""', ""]
        if system:
            lines += [f'SYSTEM """{system}"""', ""]
    elif getattr(tokenizer, "chat_template", None):
        notes.append("The model's chat template is not one Studio can write as an Ollama template (it knows ChatML "
                     "and Llama 3); Ollama reads the template inside the GGUF file instead.")
    else:
        notes.append("The model has no chat template: Ollama will give it your text as it is, as a base model.")
    stops = [chat_templates.TURN_END[family]] if family else []
    if tokenizer.eos_token and tokenizer.eos_token not in stops:
        stops.append(tokenizer.eos_token)
    lines += [f"PARAMETER stop {json.dumps(stop)}" for stop in stops]
    for key, name in _PARAMETERS.items():
        value = (generation or {}).get(key)
        if value is not None and (generation or {}).get("do_sample", True):
            lines.append(f"PARAMETER {name} {value:g}")
    return Modelfile("\n".join(lines).rstrip() + "\n", family, notes)


def generation_settings(model_dir: Path) -> dict[str, Any]:
    """The sampling settings an exported model folder carries (generation_config.json), or none."""
    try:
        return json.loads((model_dir / "generation_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def create_command(folder: Path, name: str) -> str:
    """What a person runs to make the model an Ollama model."""
    return f"cd {_quoted(folder)} && ollama create {name} -f Modelfile"


def model_name(text: str) -> str:
    """A name Ollama accepts, from a run's or folder's name."""
    return re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-._") or "studio-model"


def _quoted(path: Path) -> str:
    import shlex

    return shlex.quote(str(path))
