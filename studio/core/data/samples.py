"""Built-in samples, made on the person's own machine from the Python standard library's sources.

Nothing is downloaded or copied from elsewhere: the corpus is whatever the running interpreter ships,
so it is deterministic for a given Python. Each sample is built once and cached as JSON Lines.

- `sample:python-code`: language modelling, one row per source file (`text`).
- `sample:docstrings`: summarization, `source` (a function without its docstring) and `target` (the
  first sentence of its docstring).
- `sample:packages`: text classification, `text` (a function's source) and `label` (the standard-library
  package it comes from, such as asyncio or email).
- `sample:python-tags`: token classification, `tokens` (a line of Python cut into words by the standard
  `tokenize` module) and `tags` (BIO spans of keywords, names, numbers, strings and comments).
- `sample:python-chat`: chat, `messages` (conversations about the library's functions; see chat_sample).
- `sample:python-prefer`: preference tuning, `prompt`, `chosen` and `rejected` (see prefer_sample).
- `sample:python-qa`: question answering, `question`, `context` (a function's source) and `answers` (SQuAD's
  shape: spans of the source that answer it; see qa_sample).
- `sample:messages-LANG`: translation, `source` (a program's English message) and `target` (its translation into
  LANG), from the message catalogues installed on the machine (see messages_sample).

Which task a sample serves is declared by the task (its `default_data`), not here.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import sys
import sysconfig
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

from studio.core.data import messages_sample
from studio.core.errors import DataError

SAMPLE_PREFIX = "sample:"
_VERSION = 3  # bump when the recipe changes so old caches are rebuilt
# Sized so a CPU run shows learning within minutes while the text is still varied.
_CODE_BUDGET_CHARS = 6_000_000
_MAX_FILE_CHARS = 60_000
_MAX_PAIRS = 20_000
_MAX_SOURCE_CHARS = 1_500
# `encodings` holds generated codec tables ("BOX DRAWINGS ... LATIN CAPITAL LETTER"): a model trained on
# them keeps writing them.
_SKIP_DIRS = {"test", "tests", "idlelib", "site-packages", "dist-packages", "lib2to3", "__pycache__",
              "turtledemo", "tkinter", "ensurepip", "venv", "encodings"}
# Other generated tables (re/_casefix.py, _sysconfigdata*, stringprep.py) are files whose lines are mostly
# bare literals; real modules with a constant table or two stay under half.
_LITERAL_LINE = re.compile(r"""^\s*(['"]|0x|\d|\(|[ub]['"])[^=]*[,)\]}]?\s*(#.*)?$""")
_MAX_LITERAL_SHARE = 0.6
_TABLE_MIN_CHARS = 2_000

# Packages present in every supported Python, each with hundreds of functions of its own vocabulary.
_PACKAGES = ("asyncio", "email", "http", "importlib", "logging", "multiprocessing", "unittest", "xml")
_PER_PACKAGE = 400
_MIN_FUNCTION_CHARS = 80

SAMPLES = {
    "python-code": "Python standard library source files (language modelling)",
    "docstrings": "Python functions -> first sentence of their docstring (summarization)",
    "packages": "Python functions -> the standard-library package they come from (text classification)",
    "python-tags": "Python lines as words, tagged as keywords, names, numbers, strings, comments (tagging)",
    "python-chat": "Conversations about the Python standard library: what a function does, its module, its "
                   "signature (chat)",
    "messages-de": "Programs' English messages and their German translations, from this machine's catalogues "
                   "(translation)",
    "messages-fr": "Programs' English messages and their French translations (translation)",
    "messages-es": "Programs' English messages and their Spanish translations (translation)",
    "python-qa": "Questions about Python functions answered by spans of their source: what they raise, return, "
                 "take and do (question answering)",
    "python-prefer": "Questions about the Python standard library, each with the answer that answers it and one "
                     "that does not (preference tuning)",
}
_MAX_TAGGED_LINES = 12_000
_MAX_LINE_WORDS = 40


def is_sample(source: str) -> bool:
    return source.startswith(SAMPLE_PREFIX)


def is_messages(source: str) -> bool:
    return source.startswith(SAMPLE_PREFIX + messages_sample.PREFIX)


def message_samples(most: int = 16) -> dict[str, str]:
    """The translation samples this machine can make, one per language it has catalogues for, the languages
    with most catalogues first (more programs translated, more messages to learn from)."""
    return {f"{messages_sample.PREFIX}{code}": f"Programs' English messages and their translations into {code}, "
                                               f"from {n} of this machine's catalogues (translation)"
            for code, n in list(messages_sample.languages().items())[:most]}


def same_kind(source: str, other: str) -> bool:
    """Whether two samples are made the same way (the message catalogues of two languages)."""
    messages = SAMPLE_PREFIX + messages_sample.PREFIX
    return source == other or (source.startswith(messages) and other.startswith(messages))


def check(source: str) -> None:
    """Raise `DataError` unless `source` names a built-in sample."""
    _sample_name(source)


def _sample_name(source: str) -> str:
    name = source[len(SAMPLE_PREFIX):]
    if name.startswith(messages_sample.PREFIX):  # any language the machine has catalogues for
        messages_sample.check(name.removeprefix(messages_sample.PREFIX))
        return name
    if name not in SAMPLES:
        known = ", ".join(SAMPLE_PREFIX + n for n in SAMPLES)
        raise DataError(f"There is no built-in sample called '{source}'; choose one of {known}.")
    return name


def stdlib_files() -> list[Path]:
    root = Path(sysconfig.get_paths()["stdlib"])
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not d.startswith("test"))
        files.extend(Path(dirpath) / f for f in sorted(filenames)
                     if f.endswith(".py") and not f.startswith("test_"))
    # Order by a hash of the relative path so a size budget samples the whole library, not just 'a*'.
    return sorted(files, key=lambda p: hashlib.sha1(str(p.relative_to(root)).encode()).hexdigest())


def read_source(path: Path) -> str | None:
    """A source file's text; None for one that cannot be read or is a generated table."""
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return None
    return None if _is_generated_table(text) else text


def _is_generated_table(text: str) -> bool:
    if len(text) < _TABLE_MIN_CHARS:
        return False
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    literal = sum(1 for line in lines if _LITERAL_LINE.match(line))
    return bool(lines) and literal / len(lines) > _MAX_LITERAL_SHARE


def _code_rows() -> Iterator[dict]:
    used = 0
    for path in stdlib_files():
        text = read_source(path)
        if not text or len(text) > _MAX_FILE_CHARS:
            continue
        yield {"text": text}
        used += len(text)
        if used >= _CODE_BUDGET_CHARS:
            return


_SENTENCE_END = re.compile(r"(?<=[.!?])\s")


def first_sentence(doc: str) -> str:
    paragraph = " ".join(doc.strip().split("\n\n")[0].split())
    # A doctest is an example, not a summary: a model trained on ">>> import io >>> ..." writes it for any input.
    prose = paragraph.split(">>>", 1)[0]
    return _SENTENCE_END.split(prose, maxsplit=1)[0].strip()


def _without_docstring(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    node.body = node.body[1:] or [ast.Pass()]
    return ast.unparse(node)


def _docstring_rows() -> Iterator[dict]:
    count = 0
    for path in stdlib_files():
        text = read_source(path)
        if not text:
            continue
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            doc = ast.get_docstring(node)
            if not doc:
                continue
            target = first_sentence(doc)
            if len(target.split()) < 3:
                continue
            source = _without_docstring(node)
            if len(source) > _MAX_SOURCE_CHARS:
                continue
            yield {"source": source, "target": target}
            count += 1
            if count >= _MAX_PAIRS:
                return


def _package_rows() -> Iterator[dict]:
    root = Path(sysconfig.get_paths()["stdlib"])
    taken = dict.fromkeys(_PACKAGES, 0)
    for path in stdlib_files():
        package = path.relative_to(root).parts[0]
        if package not in taken or taken[package] >= _PER_PACKAGE:
            continue
        text = read_source(path) or ""
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        lines = text.splitlines(keepends=True)  # ast.get_source_segment splits the file again on every call
        for node in ast.walk(tree):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            source = textwrap.dedent("".join(lines[node.lineno - 1:node.end_lineno]))
            if len(source) < _MIN_FUNCTION_CHARS:
                continue
            yield {"text": source[:_MAX_SOURCE_CHARS], "label": package}
            taken[package] += 1
            if taken[package] >= _PER_PACKAGE:
                break


def _tagged_rows() -> Iterator[dict]:
    """Lines of Python as tokenize's tokens; a token with spaces inside (a string, a comment) becomes
    several words, the first tagged B-KIND and the rest I-KIND; operators and brackets are O."""
    import io
    import keyword
    import tokenize

    kinds = {tokenize.NUMBER: "NUMBER", tokenize.STRING: "STRING", tokenize.COMMENT: "COMMENT"}
    count = 0
    for path in stdlib_files():
        text = read_source(path)
        if not text:
            continue
        words: list[str] = []
        tags: list[str] = []
        try:
            for token in tokenize.generate_tokens(io.StringIO(text).readline):
                if token.type in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER):
                    if words and len(words) <= _MAX_LINE_WORDS:
                        yield {"tokens": words, "tags": tags}
                        count += 1
                        if count >= _MAX_TAGGED_LINES:
                            return
                    words, tags = [], []
                    continue
                if token.type == tokenize.NAME:
                    kind = "KEYWORD" if keyword.iskeyword(token.string) else "NAME"
                else:
                    kind = kinds.get(token.type)
                pieces = token.string.split()
                if not pieces:
                    continue
                words.extend(pieces)
                tags.extend(["O"] * len(pieces) if kind is None else [f"B-{kind}"] + [f"I-{kind}"] * (len(pieces) - 1))
        except (tokenize.TokenError, SyntaxError):
            continue


def _chat_rows() -> Iterator[dict]:
    from studio.core.data import chat_sample

    return chat_sample.rows()


def _qa_rows() -> Iterator[dict]:
    from studio.core.data import qa_sample

    return qa_sample.rows()


def _preference_rows() -> Iterator[dict]:
    from studio.core.data import prefer_sample

    return prefer_sample.rows()


_BUILDERS = {"python-code": _code_rows, "docstrings": _docstring_rows, "packages": _package_rows,
             "python-tags": _tagged_rows, "python-chat": _chat_rows,
             "python-prefer": _preference_rows, "python-qa": _qa_rows}


def sample_path(source: str, cache: Path, progress: Callable[[str], None] | None = None) -> Path:
    """The cached JSON Lines file of a built-in sample, built on first use (atomically)."""
    name = _sample_name(source)
    version = ".".join(map(str, sys.version_info[:3]))
    recipe = messages_sample.VERSION if name.startswith(messages_sample.PREFIX) else _VERSION
    path = cache / "samples" / f"{name}-py{version}-v{recipe}.jsonl"
    if path.exists():
        return path
    if progress:
        progress(f"Building {source} from this machine's "
                 f"{'message catalogues' if name.startswith(messages_sample.PREFIX) else 'Python standard library'} "
                 "(once)...")
    rows = (messages_sample.rows(name.removeprefix(messages_sample.PREFIX))
            if name.startswith(messages_sample.PREFIX) else _BUILDERS[name]())
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    with tmp.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    os.replace(tmp, path)
    return path
