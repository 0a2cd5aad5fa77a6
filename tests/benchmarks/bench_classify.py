"""Batch classification: Studio's `classify_many` (what `studio classify --file` and the Playground's
batch run) against the raw transformers pipeline on the same model, texts, batch size and device.

The texts are functions of sample:packages, of mixed lengths as real lines are. Studio sorts them by
length before batching, so batches carry little padding; the pipeline pads each batch in the order
given. Probabilities are checked equal before anything is timed.
"""

from __future__ import annotations

import argparse
import json
import time

from _common import median, report, scratch


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--texts", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    import torch
    from transformers import pipeline

    from studio.core.data import samples
    from studio.core.data.tokenizer import train_bpe
    from studio.core.modeling import presets
    from studio.core.playground.classification import classify_many
    from studio.core.tasks import loaded as inference
    from studio.core.tasks import registry

    root = scratch()
    rows = [json.loads(line) for line in samples.sample_path("sample:packages", root / "cache").open()]
    texts = [r["text"] for r in rows][: args.texts]
    names = sorted({r["label"] for r in rows})
    task = registry.get("classify")
    tokenizer = train_bpe(texts, 4096, family="bert")
    torch.manual_seed(0)
    model = presets.build("bert-tiny", tokenizer, task.auto_class, id2label=dict(enumerate(names)),
                          label2id={n: i for i, n in enumerate(names)})
    folder = root / "model"
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    loaded = inference.load(str(folder), device=args.device)
    plain = pipeline("text-classification", model=str(folder), device=args.device, top_k=None)
    limit = loaded.input_limit
    kwargs = {"batch_size": args.batch_size, "truncation": True, "max_length": limit}

    ours = classify_many(loaded, texts[:50], batch_size=args.batch_size)
    theirs = plain(texts[:50], **kwargs)
    worst = max(abs(p.scores[row["label"]] - row["score"]) for p, out in zip(ours, theirs) for row in out)
    assert worst < 1e-4, worst

    def studio() -> float:
        started = time.perf_counter()
        classify_many(loaded, texts, batch_size=args.batch_size)
        return len(texts) / (time.perf_counter() - started)

    def raw() -> float:
        started = time.perf_counter()
        plain(texts, **kwargs)
        return len(texts) / (time.perf_counter() - started)

    studio(), raw()  # warm-up
    ours_rate, raw_rate = [], []
    for _ in range(args.rounds):
        ours_rate.append(studio())
        raw_rate.append(raw())
    report("classify_batch_throughput", {
        "model": "bert-tiny", "texts": len(texts), "batch_size": args.batch_size, "max_tokens": limit,
        "device": args.device, "rounds": args.rounds, "largest_probability_difference": worst,
        "studio_texts_per_second": round(median(ours_rate), 1), "pipeline_texts_per_second": round(median(raw_rate), 1),
        "ratio": round(median(ours_rate) / median(raw_rate), 3)})


if __name__ == "__main__":
    main()
