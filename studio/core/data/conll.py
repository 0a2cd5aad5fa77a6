"""CoNLL files: a word and its tag per line (the tag last, as in CoNLL-2003's four columns), a blank line
between sentences, `-DOCSTART-` lines skipped. Loaded into `datasets` as `tokens` and `tags` lists.

`datasets` has no CoNLL builder of its own (the conll2003 loader is remote code), so the file is read
here, a line at a time, and written to Arrow once through `Dataset.from_generator` (cached by the
files' paths, sizes and times, so a changed file is read again).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from studio.core.errors import DataError

if TYPE_CHECKING:
    from datasets import Dataset

SUFFIXES = (".conll", ".iob", ".bio")


def check(path: Path) -> None:
    """Raise `DataError` for a file whose first sentence is not `word tag` lines, or that has none. The
    rest is checked as it is loaded, in the same pass (a bad line further on is named then)."""
    for _ in _sentences(path):
        return
    raise DataError(f"'{path.name}' holds no sentences; a CoNLL file has a word and its tag on each line.")


def _sentences(path: Path) -> Iterator[dict[str, list[str]]]:
    words: list[str] = []
    tags: list[str] = []
    width: tuple[int, int] | None = None  # the columns of the first word line, and its number
    try:
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                fields = line.split()
                if not fields:
                    if words:
                        yield {"tokens": words, "tags": tags}
                    words, tags = [], []
                    continue
                if fields[0] == "-DOCSTART-":
                    continue
                if len(fields) < 2:
                    raise DataError(f"'{path.name}' line {number} has no tag ({line.strip()[:40]!r}); each line of "
                                    "a CoNLL file is a word and its tag separated by a space or tab, and a blank "
                                    "line ends a sentence.")
                if width is None:
                    width = (len(fields), number)
                elif len(fields) != width[0]:
                    # the tag is the last column: a line with another count most likely has a word with a space
                    # in it, or a tag column missing, and would be read with the wrong tag
                    raise DataError(f"'{path.name}' line {number} has {len(fields)} columns ({line.strip()[:40]!r}) "
                                    f"where line {width[1]} has {width[0]}; every line of a CoNLL file has the same "
                                    "columns, the tag last. Fix that line (a word with a space in it?).")
                words.append(fields[0])
                tags.append(fields[-1])
    except UnicodeDecodeError as exc:
        raise DataError(f"'{path.name}' is not UTF-8 text ({exc.reason}); save it as UTF-8 and try again.") from None
    if words:
        yield {"tokens": words, "tags": tags}


def _rows(files: list[str], stamps: list[tuple[int, int]]) -> Iterator[dict[str, list[str]]]:
    """Every sentence of every file; `stamps` only key the cache."""
    for file in files:
        yield from _sentences(Path(file))


def load(files: list[str], cache: Path) -> Dataset:
    import datasets

    features = datasets.Features({"tokens": datasets.Sequence(datasets.Value("string")),
                                  "tags": datasets.Sequence(datasets.Value("string"))})
    stamps = [(Path(f).stat().st_size, Path(f).stat().st_mtime_ns) for f in files]
    return datasets.Dataset.from_generator(_rows, features=features, cache_dir=str(cache / "datasets"),
                                           gen_kwargs={"files": list(files), "stamps": stamps})
