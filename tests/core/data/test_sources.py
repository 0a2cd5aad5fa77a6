"""Loading every supported format, folder rules and train/validation splits."""

from __future__ import annotations

import json

from studio.core.data import sources


def write_all_formats(tmp):
    rows = [{"text": f"line {i} of text", "n": i} for i in range(30)]
    (tmp / "a.txt").write_text("\n".join(r["text"] for r in rows) + "\n")
    (tmp / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp / "a.json").write_text(json.dumps(rows))
    (tmp / "a.csv").write_text("text,n\n" + "".join(f"{r['text']},{r['n']}\n" for r in rows))
    import datasets

    datasets.Dataset.from_list(rows).to_parquet(str(tmp / "a.parquet"))


def test_every_format_loads(tmp_path):
    write_all_formats(tmp_path)
    for suffix in ("txt", "jsonl", "json", "csv", "parquet"):
        ds = sources.load(str(tmp_path / f"a.{suffix}"), tmp_path / "cache")
        assert len(ds) == 30 and ds[3]["text"] == "line 3 of text", suffix


def test_folder_of_one_kind_loads_every_file(tmp_path):
    folder = tmp_path / "docs"
    (folder / "sub").mkdir(parents=True)
    (folder / "one.txt").write_text("a\nb\n")
    (folder / "sub" / "two.txt").write_text("c\n")
    (folder / ".hidden").mkdir()
    (folder / ".hidden" / "x.csv").write_text("q\n1\n")  # hidden folders are not mixed in
    assert sorted(sources.load(str(folder), tmp_path / "cache")["text"]) == ["a", "b", "c"]


def test_split_is_deterministic_and_disjoint(tmp_path):
    write_all_formats(tmp_path)
    ds = sources.load(str(tmp_path / "a.jsonl"), tmp_path / "cache")
    t1, v1 = sources.split(ds, 0.2, seed=5)
    t2, v2 = sources.split(ds, 0.2, seed=5)
    assert v1["n"] == v2["n"] and len(v1) == 6 and not set(v1["n"]) & set(t1["n"])
    assert sources.split(ds, 0.2, seed=6)[1]["n"] != v1["n"]


def test_text_file_lines_keep_their_order(tmp_path):
    lines = [f"line {i}" for i in range(50)]
    (tmp_path / "t.txt").write_text("\n".join(lines) + "\n")
    ds = sources.load(str(tmp_path / "t.txt"), tmp_path / "cache")
    train, val = sources.split(ds, 0.1, seed=1, shuffle=False)
    assert list(val["text"]) == lines[-5:] and list(train["text"]) == lines[:-5]
