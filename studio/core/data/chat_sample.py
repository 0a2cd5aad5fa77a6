"""`sample:python-chat`: conversations about the Python standard library, made from its own sources.

A user asks what a function does, which module a name comes from, or for a function's signature; the
assistant answers from the source (the docstring's first sentence, the module's dotted name, the `def`
line's arguments). Each conversation holds two or three such exchanges, some about the same function,
and some open with a system prompt. The three kinds of question have answers of three different shapes,
so even a tiny model that has learned little shows it has told them apart.
"""

from __future__ import annotations

import ast
import random
import sysconfig
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from studio.core.data import samples

_MAX_CONVERSATIONS = 8_000
MAX_SIGNATURE_CHARS = 70
_MAX_ANSWER_CHARS = 160
_SEED = 20  # the shuffle that pairs functions and questions; fixed, so the sample is the same every time

SYSTEM_PROMPTS = (
    "You are a helpful assistant who knows the Python standard library.",
    "Answer questions about Python's standard library in one sentence.",
)


@dataclass(frozen=True)
class Function:
    module: str  # "email.utils"
    name: str  # "parseaddr"
    signature: str  # "parseaddr(addr, *, strict=True)"
    summary: str  # the docstring's first sentence


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def functions() -> Iterator[Function]:
    root = Path(sysconfig.get_paths()["stdlib"])
    for path in samples.stdlib_files():
        module = _module_name(path, root)
        if any(part.startswith("_") for part in module.split(".")):
            continue
        text = samples.read_source(path)
        try:
            tree = ast.parse(text or "")
        except SyntaxError:
            continue
        for owner, node in _public_functions(tree):
            doc = ast.get_docstring(node)
            summary = samples.first_sentence(doc) if doc else ""
            if len(summary.split()) < 3 or len(summary) > _MAX_ANSWER_CHARS:
                continue
            args = node.args
            if owner:  # a method is called without its self
                args.posonlyargs, args.args = (args.posonlyargs[1:], args.args) if args.posonlyargs else \
                    ([], args.args[1:])
            name = f"{owner}.{node.name}" if owner else node.name
            yield Function(module, name, f"{name}({ast.unparse(args)})", summary)


def _public_functions(tree: ast.Module) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """Module-level functions, and the methods of module-level classes: what `from module import name` finds."""
    for node in tree.body:
        if node.name.startswith("_") if hasattr(node, "name") else True:
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield "", node
        elif isinstance(node, ast.ClassDef):
            for member in node.body:
                if isinstance(member, (ast.FunctionDef, ast.AsyncFunctionDef)) and not member.name.startswith("_") \
                        and not member.decorator_list:
                    yield node.name, member


def exchange(kind: str, f: Function, rng: random.Random) -> tuple[str, str]:
    if kind == "does":
        question = rng.choice(("What does {m}.{n} do?", "What is {m}.{n} for?", "Explain {m}.{n}."))
        return question.format(m=f.module, n=f.name), f.summary
    if kind == "module":
        question = rng.choice(("Which module is {n} in?", "Where does {n} come from?", "How do I import {n}?"))
        imported = f.name.split(".")[0]  # a method comes with its class
        return question.format(n=f.name), f"{f.name} comes from the {f.module} module: from {f.module} import {imported}"
    return f"What is the signature of {f.module}.{f.name}?", f"{f.module}.{f.signature}"


def rows() -> Iterator[dict]:
    """Conversations as OpenAI `messages` rows, the same for the same Python."""
    found = list(functions())
    rng = random.Random(_SEED)
    rng.shuffle(found)
    for count in range(min(_MAX_CONVERSATIONS, 2 * len(found))):
        messages = []
        if rng.random() < 0.3:
            messages.append({"role": "system", "content": rng.choice(SYSTEM_PROMPTS)})
        subject = found[count % len(found)]
        asked: set[tuple[str, str]] = set()
        for _ in range(rng.choice((2, 2, 3))):
            kinds = [k for k in ("does", "module", "signature") if (k, subject.name) not in asked and
                     (k != "signature" or len(subject.signature) <= MAX_SIGNATURE_CHARS)]
            if not kinds:
                break
            kind = rng.choice(kinds)
            asked.add((kind, subject.name))
            question, answer = exchange(kind, subject, rng)
            messages += [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
            if rng.random() < 0.5:  # the next question is about another function
                subject = found[rng.randrange(len(found))]
        yield {"messages": messages}
