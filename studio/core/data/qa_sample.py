"""`sample:python-qa`: questions about the Python standard library's functions, answered by spans of the
function's own source, made on the person's machine.

The context is a function's source. Each question is built from the function's syntax tree, so its answer
is right and is exactly where the tree says: what exception it raises (the name after its first `raise`),
what it returns (its first `return`'s expression), which argument defaults to a value (the argument's
name), what its first argument is, and what it does (its docstring's first sentence, where the source
holds it on one line). Several questions share a context, so a model must read the question to answer.
"""

from __future__ import annotations

import ast
import random
import textwrap
from collections.abc import Iterator

from studio.core.data import samples

_MAX_ROWS = 12_000
_MAX_CONTEXT_CHARS = 1_200
_MAX_ANSWER_CHARS = 60
_SEED = 30  # the shuffle of the rows; fixed, so the sample is the same every time


def _offset(lines: list[str], line: int, column: int) -> int:
    """A node's (line, UTF-8 byte column) as a character offset into the text of `lines`."""
    before = sum(len(x) for x in lines[:line - 1])
    return before + len(lines[line - 1].encode("utf-8")[:column].decode("utf-8", errors="ignore"))


def _span(lines: list[str], node: ast.AST) -> tuple[int, int]:
    return (_offset(lines, node.lineno, node.col_offset),  # type: ignore[attr-defined]
            _offset(lines, node.end_lineno, node.end_col_offset))  # type: ignore[attr-defined]


def _name(lines: list[str], arg: ast.arg) -> tuple[int, int]:
    """An argument's name alone (its node spans its annotation too)."""
    start = _offset(lines, arg.lineno, arg.col_offset)
    return start, start + len(arg.arg)


def _questions(name: str, node: ast.FunctionDef | ast.AsyncFunctionDef, lines: list[str], context: str
               ) -> Iterator[tuple[str, int, int]]:
    """(question, answer start, answer end) about one function, its spans in `context`."""
    args = [a for a in node.args.posonlyargs + node.args.args if a.arg not in ("self", "cls")]
    if args:
        yield f"What is the first argument of {name}?", *_name(lines, args[0])
    positional = node.args.posonlyargs + node.args.args
    for arg, default in zip(positional[len(positional) - len(node.args.defaults):], node.args.defaults):
        if isinstance(default, ast.Constant) and default.value not in (None, True, False, ""):
            yield f"Which argument of {name} defaults to {ast.unparse(default)}?", *_name(lines, arg)
            break
    for inner in ast.walk(node):
        if isinstance(inner, ast.Raise) and inner.exc is not None:
            raised = inner.exc.func if isinstance(inner.exc, ast.Call) else inner.exc
            if isinstance(raised, (ast.Name, ast.Attribute)):
                yield f"What exception does {name} raise?", *_span(lines, raised)
            break
    for inner in ast.walk(node):
        if isinstance(inner, ast.Return) and inner.value is not None:
            if not (isinstance(inner.value, ast.Constant) and inner.value.value is None):
                yield f"What does {name} return?", *_span(lines, inner.value)
            break
    doc = ast.get_docstring(node)
    summary = samples.first_sentence(doc) if doc else ""
    at = context.find(summary) if len(summary.split()) >= 3 else -1
    if at >= 0:
        yield f"What does {name} do?", at, at + len(summary)


def rows() -> Iterator[dict]:
    found = []
    for path in samples.stdlib_files():
        text = samples.read_source(path)
        try:
            tree = ast.parse(text or "")
        except SyntaxError:
            continue
        source_lines = (text or "").splitlines(keepends=True)
        for node in ast.walk(tree):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or node.name.startswith("_"):
                continue
            context = textwrap.dedent("".join(source_lines[node.lineno - 1:node.end_lineno]))
            if len(context) > _MAX_CONTEXT_CHARS:
                continue
            try:  # the spans are read off the context's own tree, so they are exact in it
                own = ast.parse(context).body[0]
            except (SyntaxError, IndexError):
                continue
            lines = context.splitlines(keepends=True)
            for question, start, end in _questions(node.name, own, lines, context):
                answer = context[start:end]
                if answer.strip() and len(answer) <= _MAX_ANSWER_CHARS and "\n" not in answer:
                    found.append({"question": question, "context": context,
                                  "answers": {"text": [answer], "answer_start": [start]}})
    random.Random(_SEED).shuffle(found)
    yield from found[:_MAX_ROWS]
