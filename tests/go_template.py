"""The part of Go's text/template that Ollama's chat templates written by Studio use, to render them in tests
where Go is not installed: text, {{ .Field }}, {{ range .Messages }} ... {{ end }}, and the trim markers
({{- trims the white space before, -}} the white space after). Anything else is refused, so a template that
grows beyond this is not judged by a renderer that does not know it. Where `go` is installed, the tests
also render with Go's own text/template (see render_with_go)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

_ACTION = re.compile(r"{{(-\s)?\s*(.*?)\s*(\s-)?}}", re.DOTALL)


def render(template: str, messages: list[dict[str, str]], system: str = "") -> str:
    """`template` over `messages` as Ollama gives them: a Modelfile's SYSTEM opens a conversation with none."""
    if system and not any(m["role"] == "system" for m in messages):
        messages = [{"role": "system", "content": system}, *messages]
    parts: list[tuple[str, str]] = []
    at = 0
    for found in _ACTION.finditer(template):
        text = template[at:found.start()]
        if found.group(1):
            text = text.rstrip(" \t\r\n")
        parts.append(("text", text))
        parts.append(("action", found.group(2)))
        at = found.end()
        if found.group(3):
            rest = template[at:]
            at += len(rest) - len(rest.lstrip(" \t\r\n"))
    parts.append(("text", template[at:]))
    out, _ = _run(parts, 0, {"Messages": [{"Role": m["role"], "Content": m["content"]} for m in messages]})
    return out


def _run(parts: list[tuple[str, str]], i: int, dot: dict) -> tuple[str, int]:
    out = []
    while i < len(parts):
        kind, value = parts[i]
        if kind == "text":
            out.append(value)
        elif value == "end":
            return "".join(out), i
        elif value.startswith("range ."):
            items = dot[value.removeprefix("range .")]
            end = i
            for item in items:
                text, end = _run(parts, i + 1, item)
                out.append(text)
            if not items:
                _, end = _run(parts, i + 1, {})
            i = end
        elif re.fullmatch(r"\.[A-Z][A-Za-z]*", value):
            out.append(str(dot[value[1:]]))
        else:
            raise ValueError(f"the test renderer does not know the action {{{{ {value} }}}}")
        i += 1
    return "".join(out), i


def go_available() -> bool:
    return shutil.which("go") is not None


_GO_PROGRAM = """package main

import (
	"encoding/json"
	"os"
	"text/template"
)

type Message struct {
	Role    string
	Content string
}

func main() {
	var data struct {
		Template string
		Messages []Message
	}
	json.NewDecoder(os.Stdin).Decode(&data)
	t := template.Must(template.New("t").Parse(data.Template))
	if err := t.Execute(os.Stdout, map[string]any{"Messages": data.Messages}); err != nil {
		panic(err)
	}
}
"""


def render_with_go(template: str, messages: list[dict[str, str]], system: str = "") -> str:
    """The same, by Go's own text/template (as Ollama renders it)."""
    if system and not any(m["role"] == "system" for m in messages):
        messages = [{"role": "system", "content": system}, *messages]
    with tempfile.TemporaryDirectory() as folder:
        program = Path(folder) / "render.go"
        program.write_text(_GO_PROGRAM)
        data = {"Template": template, "Messages": [{"Role": m["role"], "Content": m["content"]} for m in messages]}
        done = subprocess.run(["go", "run", str(program)], input=json.dumps(data), capture_output=True, text=True,
                              check=True, timeout=300)
    return done.stdout
