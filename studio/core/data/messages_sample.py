"""`sample:messages-LANG`: the English messages programs show, each with its translation into LANG, from the message
catalogues the programs on this machine installed for their translations (gettext `.mo` files; on Linux under
/usr/share/locale/LANG/LC_MESSAGES/), read with the standard library's `gettext`. Tens of thousands of short real
sentences and phrases, with real translations, made on the person's own machine.
"""

from __future__ import annotations

import gettext
import random
import re
from collections.abc import Iterator
from pathlib import Path

from studio.core.errors import DataError

PREFIX = "messages-"
VERSION = 2  # bump when the recipe changes so old caches are rebuilt
LOCALE_DIRS = (Path("/usr/share/locale"), Path("/usr/local/share/locale"), Path("/usr/share/locale-langpack"))
# Short messages only: a tiny model learns to translate "File not found" within minutes, while a sentence of
# help text (up to 200 characters were kept at first) left its translations German words in the wrong order,
# chrF 16 after 2,000 steps, under the 25 of copying the English unchanged.
_MAX_WORDS = 8
_MAX_CHARS = 80
_MIN_LETTERS = 2
_MARKUP = re.compile(r"<[^>]+>")


def catalogues(language: str) -> list[Path]:
    """The .mo files for `language` (its regional variants, such as pt_BR, are languages of their own)."""
    found: list[Path] = []
    for root in LOCALE_DIRS:
        found += sorted((root / language / "LC_MESSAGES").glob("*.mo"))
    return found


def languages() -> dict[str, int]:
    """Each language this machine has catalogues for, with how many, most first."""
    counts: dict[str, int] = {}
    for root in LOCALE_DIRS:
        if root.is_dir():
            for folder in root.iterdir():
                n = len(list((folder / "LC_MESSAGES").glob("*.mo")))
                if n:
                    counts[folder.name] = counts.get(folder.name, 0) + n
    return dict(sorted(counts.items(), key=lambda item: -item[1]))


def check(language: str) -> None:
    """A sentence when this machine has no catalogues for `language`."""
    if catalogues(language):
        return
    have = languages()
    how = ("install your system's translations (on Debian or Ubuntu the package language-pack-" + language +
           " or the programs' -l10n packages; on Fedora, glibc-langpack-" + language + ")")
    if not have:
        raise DataError(f"sample:{PREFIX}{language} is made from the message catalogues programs install for their "
                        f"translations (gettext .mo files under /usr/share/locale), and this machine has none; "
                        f"{how}, or give your own source,target file.")
    offered = ", ".join(f"{PREFIX}{code}" for code in list(have)[:12])
    raise DataError(f"This machine has no message catalogues for '{language}'; choose a language it has (sample:"
                    f"{offered.replace(', ', ', sample:')}), or {how}.")


_MNEMONIC = re.compile(r"(?<![\w&])[_&](?=\w)")  # a menu's shortcut mark: "_Open", "&Save"
_ANY_MNEMONIC = re.compile(r"[_&](?=\w)")  # translators put it inside a word: "Datei ö_ffnen"


def _clean(text: str) -> str:
    """Without markup and the line breaks of wrapped text, which are not language."""
    return " ".join(_MARKUP.sub("", text).replace("\n", " ").split())


def _pair(source: str, target: str) -> tuple[str, str]:
    """The pair without the shortcut mark, when the English has one (then its translation has one too)."""
    source, target = _clean(source), _clean(target)
    if _MNEMONIC.search(source):
        return _MNEMONIC.sub("", source, count=1), _ANY_MNEMONIC.sub("", target, count=1)
    return source, target


def rows(language: str) -> Iterator[dict[str, str]]:
    """{"source": English, "target": LANG} for every message of every catalogue, each English message once,
    shuffled the same way on every machine with the same catalogues."""
    check(language)
    pairs: dict[str, str] = {}
    for path in catalogues(language):
        try:
            with path.open("rb") as handle:
                translations = gettext.GNUTranslations(handle)
        except (OSError, UnicodeDecodeError, ValueError):
            continue  # a damaged or oddly encoded catalogue: the others are enough
        # gettext keeps a catalogue's entries in `_catalog`; it has no public way to list them
        for key, value in translations._catalog.items():
            if not isinstance(key, str) or not key or not isinstance(value, str):
                continue  # the header (""), and plural forms, keyed by (message, n)
            source, target = _pair(key.split("\x04")[-1], value)
            if (source and target and source != target and len(source) <= _MAX_CHARS
                    and len(source.split()) <= _MAX_WORDS and len(target) <= _MAX_CHARS * 2
                    and sum(c.isalpha() for c in source) >= _MIN_LETTERS):
                pairs.setdefault(source, target)
    ordered = sorted(pairs.items())
    random.Random(0).shuffle(ordered)
    for source, target in ordered:
        yield {"source": source, "target": target}
