"""sample:messages-LANG from gettext catalogues: every message once, cleaned of shortcut marks and markup, the
header and plural forms left out, shuffled the same way each time; a sentence when the machine has none, or none
for the language asked."""

from __future__ import annotations

import struct

import pytest

from studio.core.data import messages_sample, samples
from studio.core.errors import DataError


def write_mo(path, entries: dict[str, str]) -> None:
    """A GNU gettext .mo file (the format msgfmt writes: a header, then the two string tables)."""
    keys = sorted(entries)
    ids = b"".join(k.encode() + b"\0" for k in keys)
    strs = b"".join(entries[k].encode() + b"\0" for k in keys)
    start = 7 * 4 + 16 * len(keys)
    offsets, values, at_id, at_str = [], [], 0, 0
    for k in keys:
        offsets.append((len(k.encode()), start + at_id))
        at_id += len(k.encode()) + 1
    for k in keys:
        values.append((len(entries[k].encode()), start + len(ids) + at_str))
        at_str += len(entries[k].encode()) + 1
    header = struct.pack("Iiiiiii", 0x950412DE, 0, len(keys), 7 * 4, 7 * 4 + 8 * len(keys), 0, 0)
    table = b"".join(struct.pack("ii", n, o) for n, o in offsets + values)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header + table + ids + strs)


CATALOGUE = {"": "Content-Type: text/plain; charset=UTF-8\n", "_Open File": "Datei ö_ffnen",
             "File not found": "Datei nicht gefunden", "menu\x04Quit": "Beenden", "<b>Bold</b> text": "<b>Fetter</b> Text",
             "OK": "OK", "x": "y"}


@pytest.fixture
def locales(tmp_path, monkeypatch):
    root = tmp_path / "locale"
    write_mo(root / "de" / "LC_MESSAGES" / "app.mo", CATALOGUE)
    write_mo(root / "de" / "LC_MESSAGES" / "other.mo", {"File not found": "Nicht gefunden", "Save": "Speichern"})
    monkeypatch.setattr(messages_sample, "LOCALE_DIRS", (root,))
    return root


def test_the_catalogues_become_pairs_each_message_once(locales, tmp_path):
    assert messages_sample.languages() == {"de": 2}
    rows = list(messages_sample.rows("de"))
    assert sorted((r["source"], r["target"]) for r in rows) == [
        ("Bold text", "Fetter Text"), ("File not found", "Datei nicht gefunden"), ("Open File", "Datei öffnen"),
        ("Quit", "Beenden"), ("Save", "Speichern")]  # no header, no identical pair, no one-letter message
    assert rows == list(messages_sample.rows("de"))  # the same order every time
    path = samples.sample_path("sample:messages-de", tmp_path / "cache")
    assert path.read_text().count("\n") == 5


def test_a_language_the_machine_lacks_and_a_machine_without_any_are_sentences(locales, monkeypatch, tmp_path):
    with pytest.raises(DataError, match="no message catalogues for 'pt'.*sample:messages-de"):
        samples.check("sample:messages-pt")
    monkeypatch.setattr(messages_sample, "LOCALE_DIRS", (tmp_path / "none",))
    with pytest.raises(DataError, match="this machine has none; install"):
        samples.check("sample:messages-de")
