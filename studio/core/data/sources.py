"""Loading text data into Hugging Face `datasets` (Arrow, memory-mapped) and checking it first.

A 10 GB file is never read into RAM: `datasets` converts it to Arrow files in the cache once and maps
them. What we read by hand is only the first few kilobytes of each file, to give a person a clear
sentence (empty, binary, not UTF-8, malformed) before `datasets` would fail with a stack trace.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from studio.core.data import conll, samples
from studio.core.errors import DataError, StudioError, first_line

if TYPE_CHECKING:
    from datasets import Dataset

BUILDERS = {".txt": "text", ".csv": "csv", ".jsonl": "json", ".json": "json", ".parquet": "parquet",
            **dict.fromkeys(conll.SUFFIXES, "conll")}
_KINDS = ".txt, .csv, .jsonl, .json, .parquet or .conll"
_SNIFF_BYTES = 64 * 1024


@dataclass(frozen=True)
class DataSource:
    builder: str
    files: tuple[str, ...]
    label: str


def resolve(source: str, cache: Path) -> DataSource:
    """Turn what a person typed (a file, a folder or `sample:NAME`) into files `datasets` can load."""
    if samples.is_sample(source):
        return DataSource("json", (str(samples.sample_path(source, cache)),), source)
    path = Path(source).expanduser()
    if not path.exists():
        raise DataError(f"'{source}' does not exist; check the path, or use a built-in sample such as "
                        "sample:python-code.")
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in BUILDERS
                       and not any(part.startswith(".") for part in p.relative_to(path).parts))
        if not files:
            raise DataError(f"The folder '{source}' holds no {_KINDS} files; put your data there or pick a "
                            "file.")
        kinds = {BUILDERS[p.suffix.lower()] for p in files}
        if len(kinds) > 1:
            raise DataError(f"The folder '{source}' mixes file types ({', '.join(sorted(kinds))}); "
                            "keep one kind of file per folder.")
    else:
        if path.suffix.lower() not in BUILDERS:
            raise DataError(f"'{path.name}' is not a supported file; use {_KINDS}.")
        files = [path]
    builder = BUILDERS[files[0].suffix.lower()]
    for file in files:
        _check_file(file, builder)
    return DataSource(builder, tuple(str(f) for f in files), str(path))


def _check_file(path: Path, builder: str) -> None:
    if path.stat().st_size == 0:
        raise DataError(f"'{path.name}' is empty; choose a file that contains text.")
    with path.open("rb") as f:
        head = f.read(_SNIFF_BYTES)
    if builder == "conll":
        conll.check(path)
        return
    if builder == "parquet":
        if not head.startswith(b"PAR1"):
            raise DataError(f"'{path.name}' is not a Parquet file; check the file or its extension.")
        return
    if b"\x00" in head:
        raise DataError(f"'{path.name}' looks like a binary file, not text; choose a .txt, .csv or "
                        ".jsonl file with UTF-8 text.")
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # a character cut by the sniff window is not an error
            raise DataError(f"'{path.name}' is not UTF-8 text (bad byte at offset {exc.start}); "
                            "save it as UTF-8 and try again.") from None
        text = head[: exc.start].decode("utf-8")
    if builder == "json":
        _check_json_head(path, text)
    elif builder == "csv":
        _check_csv_head(path, text)


def _check_json_head(path: Path, text: str) -> None:
    stripped = text.lstrip()
    if stripped.startswith("["):
        return  # a JSON array; `datasets` validates the rest
    lines = text.splitlines()
    complete = lines[:-1] if len(text) >= _SNIFF_BYTES else lines
    for number, line in enumerate(complete, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"'{path.name}' line {number} is not valid JSON ({exc.msg}); each line of a "
                            "JSON Lines file must be one JSON object.") from None
        if not isinstance(row, dict):
            raise DataError(f"'{path.name}' line {number} is not a JSON object; each line must look "
                            'like {"text": "..."}.')


def _check_csv_head(path: Path, text: str) -> None:
    rows = list(csv.reader(io.StringIO(text)))
    if len(text) >= _SNIFF_BYTES:
        rows = rows[:-1]
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise DataError(f"'{path.name}' has no header row; the first line of a CSV file must name the "
                        "columns.")
    width = len(rows[0])
    for number, row in enumerate(rows[1:], start=2):
        if row and len(row) != width:
            raise DataError(f"'{path.name}' row {number} has {len(row)} fields but the header has "
                            f"{width}; fix the quoting or the separators in that row.")


def load(source: str, cache: Path) -> Dataset:
    """Load every row of `source` as one memory-mapped `datasets.Dataset`."""
    return load_resolved(resolve(source, cache), cache)


def load_resolved(resolved: DataSource, cache: Path) -> Dataset:
    import datasets

    datasets.logging.set_verbosity_error()
    datasets.disable_progress_bars()
    try:
        if resolved.builder == "conll":
            ds = conll.load(list(resolved.files), cache)
        else:
            ds = datasets.load_dataset(resolved.builder, data_files=list(resolved.files), split="train",
                                       cache_dir=str(cache / "datasets"))
    except Exception as exc:  # datasets wraps parser errors in several types; all mean "bad file"
        cause = exc.__cause__ or exc
        if isinstance(cause, StudioError):
            raise cause from None  # our own reader's sentence (a CoNLL line), said as it is
        raise DataError(f"Could not read '{resolved.label}': {first_line(cause)}. Check that the file "
                        "is well-formed.") from exc
    if len(ds) == 0:
        raise DataError(f"'{resolved.label}' contains no rows; choose a file that contains text.")
    return ds


def iter_texts(ds: Dataset, columns: list[str]) -> Iterator[str]:
    """Every text of `columns`, a batch at a time from the Arrow files (never the whole column in RAM).

    A column of word lists reads as its words joined by spaces, the text a tagger is given; a column of
    conversations as its messages, each its role and content on lines of their own.
    """
    for batch in ds.select_columns(columns).iter(batch_size=1000):
        for name in columns:
            yield from (joined(t) for t in batch[name])


def joined(value: str | list[str] | list[dict] | None) -> str:
    """A text, a list of words as the text they make, or a conversation's roles and messages by line."""
    if isinstance(value, list):
        if value and isinstance(value[0], dict):
            # with each speaker's role, so a tokenizer learns the words its chat template writes
            return "\n".join(f"{m.get('role') or m.get('from') or ''}\n{m.get('content') or m.get('value') or ''}"
                             for m in value)
        return " ".join(w or "" for w in value)
    return value or ""


def split(ds: Dataset, validation_fraction: float, seed: int, *, shuffle: bool = True) -> tuple[Dataset, Dataset]:
    """A deterministic train/validation split with at least one validation row.

    Rows that are lines of one text (a .txt file) must keep their order, so they are split without
    shuffling: the last lines validate.
    """
    if len(ds) < 2:
        raise DataError("The data has a single row; a run needs at least two (one to validate on).")
    n_val = max(1, round(len(ds) * validation_fraction))
    parts = ds.train_test_split(test_size=n_val, seed=seed if shuffle else None, shuffle=shuffle)
    return parts["train"], parts["test"]
