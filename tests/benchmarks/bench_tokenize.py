"""Tokenizing throughput: Studio's preparation (datasets.map, batched, written to Arrow, statistics,
grouping into blocks) against raw `tokenizers` batch encoding of the same texts held in memory.

The raw side is the floor no pipeline can beat; the ratio says what the memory-mapped, cached,
cancellable pipeline costs on top of it.
"""

from __future__ import annotations

import argparse
import time

from _common import median, report, scratch


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seq-len", type=int, default=128)
    args = parser.parse_args()

    from studio.core.data import samples
    from studio.core.data import sources as data
    from studio.core.data.tokenizer import train_bpe
    from studio.core.tasks.lm import blocks_of

    root = scratch()
    path = samples.sample_path("sample:python-code", root / "cache")
    ds = data.load(str(path), root / "cache")
    texts = list(ds["text"])
    characters = sum(map(len, texts))
    tokenizer = train_bpe(texts, 4096)
    backend = tokenizer.backend_tokenizer

    def raw() -> float:
        started = time.perf_counter()
        total = 0
        for i in range(0, len(texts), 1000):
            for enc in backend.encode_batch(texts[i:i + 1000], add_special_tokens=False):
                total += len(enc.ids) + 1  # + the end-of-text token Studio appends
        elapsed = time.perf_counter() - started
        return total / elapsed

    def studio(i: int) -> float:
        fresh = data.load(str(path), root / f"cache{i}")  # a new cache, so nothing is reused
        started = time.perf_counter()
        _, stats = blocks_of(fresh, tokenizer, "text", args.seq_len)
        return stats.tokens / (time.perf_counter() - started)

    raw_tps, studio_tps = [], []
    for i in range(args.rounds):
        raw_tps.append(raw())
        studio_tps.append(studio(i))
    report("tokenize_throughput", {
        "corpus": "sample:python-code", "rows": len(texts), "characters": characters, "rounds": args.rounds,
        "raw_tokens_per_second": round(median(raw_tps)), "studio_tokens_per_second": round(median(studio_tps)),
        "ratio": round(median(studio_tps) / median(raw_tps), 3)})


if __name__ == "__main__":
    main()
