"""What each task's default run learns: the run a person gets with no flags but the task, on this machine.

For each task it trains the default run (default data, preset and recipe), then prints one row: task,
model, minutes, the headline metric on held-out rows next to what a model that ignores its input
scores (the most common class; the best single summary), and three example outputs on held-out rows.

    python tests/benchmarks/quality.py                       # every task, about 10 minutes on 2 cores
    python tests/benchmarks/quality.py --tasks summarize --set max_steps=1500 --set lr=5e-4
    python tests/benchmarks/quality.py --tasks mlm,mlm+nsp     # masked LM without and with next-sentence prediction

`--set` applies a setting to every run, to compare levers side by side in one sitting.
"""

from __future__ import annotations

import argparse
import collections
import json
import time
from pathlib import Path
from typing import Any

from _common import report, scratch

TASKS = ("lm", "summarize", "translate", "classify", "mlm", "mlm+nsp", "tag", "qa")
_VARIANTS = {"mlm+nsp": ("mlm", {"nsp": True})}  # a task's default run with a setting of its own changed


def held_out(config: Any, cache: Path) -> list[dict[str, Any]]:
    """The validation rows of a run, split as the engine splits them."""
    from studio.core.tasks import registry
    from studio.core.training.prepare import load_rows

    validation = load_rows(config, registry.get(config.task), cache, lambda event: None).validation
    return [validation[i] for i in range(min(len(validation), config.eval_rows))]


def examples(task: str, loaded: Any, rows: list[dict[str, Any]]) -> tuple[list[str], dict[str, Any]]:
    """Three outputs on held-out rows, and figures that show whether outputs depend on the input."""
    from studio.core.playground.sampling import Sampling

    if task == "lm":
        from studio.core.playground.generation import generate

        prompts = [r["text"][:80] for r in rows[:3]]
        outs = [generate(loaded, p, Sampling(seed=0, max_new_tokens=40)).text for p in prompts]
        return [f"{p!r} -> {o!r}" for p, o in zip(prompts, outs, strict=True)], {}
    if task == "summarize":
        from studio.core.playground.generation import summarize
        from studio.core.playground.sampling import SUMMARY_DEFAULTS
        from studio.core.tasks.rouge import rouge

        scored = rows[:128]
        refs = [r["target"] for r in scored]
        decoded = {}
        for name, sampling in (("greedy", Sampling(greedy=True, max_new_tokens=48)),
                               ("default_decoding", Sampling(max_new_tokens=48, **SUMMARY_DEFAULTS))):
            outs = [summarize(loaded, r["source"], sampling).text.strip() for r in scored]
            decoded[name] = (outs, rouge(outs, refs)["rougeL"])
        outs = decoded["default_decoding"][0]
        common = [t for t, _ in collections.Counter(refs).most_common(5)] + ["Return the", "Return a list of the file."]
        constant = max(rouge([c] * len(refs), refs)["rougeL"] for c in common)
        return ([f"{o!r} (reference {r['target']!r})" for o, r in zip(outs[:3], scored, strict=False)],
                {"distinct_of_128": len(set(outs)), "greedy_rougeL_128": round(decoded["greedy"][1], 3),
                 "default_decoding_rougeL_128": round(decoded["default_decoding"][1], 3),
                 "best_constant_rougeL_128": round(constant, 3)})
    if task == "translate":
        from studio.core.playground.generation import rewrite
        from studio.core.tasks.bleu import bleu_chrf

        scored = rows[:128]
        refs = [r["target"] for r in scored]
        outs = [rewrite(loaded, r["source"], Sampling(greedy=True, max_new_tokens=48), "translate").text.strip()
                for r in scored]
        copied = bleu_chrf([r["source"] for r in scored], refs)  # what leaving the text untranslated scores
        return ([f"{r['source']!r} -> {o!r} (reference {r['target']!r})" for o, r in zip(outs[:3], scored, strict=False)],
                {"greedy_bleu_128": round(bleu_chrf(outs, refs)["bleu"], 2),
                 "greedy_chrf_128": round(bleu_chrf(outs, refs)["chrf"], 2),
                 "source_copied_chrf_128": round(copied["chrf"], 2)})
    if task == "classify":
        from studio.core.playground.classification import classify

        labels = collections.Counter(r["label"] for r in rows)
        outs = [classify(loaded, r["text"]).label for r in rows[:3]]
        return ([f"{r['text'].splitlines()[0][:50]!r} -> {o} (truly {r['label']})" for o, r in zip(outs, rows, strict=False)],
                {"majority_accuracy": round(labels.most_common(1)[0][1] / len(rows), 3)})
    if task == "mlm":
        from studio.core.playground.fill_mask import fill, mask_token

        shown = []
        for r in rows[:40]:
            words = r["text"].split()[:40]
            if len(shown) == 3 or len(words) < 8:
                continue
            middle = len(words) // 2
            masked = " ".join(words[:middle] + [mask_token(loaded)] + words[middle + 1:])
            guess = fill(loaded, masked).masks[0][0].token.strip()
            shown.append(f"...{' '.join(words[middle - 4:middle])} [MASK] -> {guess!r} (truly {words[middle]!r})")
        # the collator hides tokens uniformly among those that are not the template's, so always guessing the
        # commonest one scores its share: the accuracy a model that ignores the context reaches
        special = set(loaded.tokenizer.all_special_ids)
        counts = collections.Counter(i for r in rows for i in loaded.tokenizer(r["text"])["input_ids"]
                                     if i not in special)
        top, count = counts.most_common(1)[0]
        return shown, {"commonest_token_accuracy": round(count / sum(counts.values()), 3),
                       "commonest_token": loaded.tokenizer.convert_ids_to_tokens(top)}
    if task == "qa":
        from studio.core.playground.answering import answer
        from studio.core.tasks import squad

        outs = [answer(loaded, r["question"], r["context"]).answers[0].text for r in rows[:3]]
        # what answering every question with the function's first argument scores: a model that ignores the
        # question and learns one place in the code gets this far
        firsts = [r["context"].split("(", 1)[1].split(",")[0].split(")")[0].split(":")[0].split("=")[0].strip()
                  for r in rows]
        return ([f"{r['question']!r} -> {o!r} (truly {r['answers']['text'][0]!r})" for o, r in zip(outs, rows)],
                {"first_argument_always_em": round(squad.scores(firsts, [r["answers"]["text"] for r in rows])
                                                   ["exact_match"], 2)})
    from studio.core.playground.tagging import tag

    outs = []
    for r in rows[:3]:
        tagged = tag(loaded, " ".join(r["tokens"]))
        outs.append(", ".join(f"{e.text}={e.label}" for e in tagged.entities[:5]))
    return outs, {}


def run_one(name: str, settings: dict[str, Any], root: Path) -> dict[str, Any]:
    from studio.core.runs import reader
    from studio.core.tasks import registry
    from studio.core.tasks.loaded import load
    from studio.core.training import config as run_config
    from studio.core.training import engine

    task, own = _VARIANTS.get(name, (name, {}))
    config = run_config.validate(run_config.from_dict({**own, **settings}, run_config.RunConfig.for_task(task)))
    began = time.monotonic()
    result = engine.train(config, root=root, out=root / "runs" / f"{name}-{Path(config.model).name}")
    minutes = (time.monotonic() - began) / 60
    info = reader.read(Path(result.run_dir))
    last = [r for r in info.history if r.get("eval_loss") is not None][-1]
    headline = {m.name: round(last[m.name], 3) for m in registry.get(task).headline_of(config.task_config().values)
                if last.get(m.name) is not None}
    loaded = load(result.run_dir)
    shown, figures = examples(task, loaded, held_out(config, root / "cache"))
    return {"task": name, "model": config.model, "data": config.data, "steps": result.global_step,
            "minutes": round(minutes, 2), "eval_loss": round(last["eval_loss"], 3), **headline, **figures,
            "examples": shown}


def settings_of(items: list[str]) -> dict[str, Any]:
    """`--set KEY=VALUE` flags as run settings: numbers, booleans and lists parsed, the rest as text."""
    return {k: json.loads(v) if v[:1].isdigit() or v[:1] in "-[{tf" else v
            for k, v in (item.split("=", 1) for item in items)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a run setting for every run, e.g. max_steps=1500")
    args = parser.parse_args()
    settings = settings_of(args.set)
    root = scratch()
    rows = []
    for task in args.tasks.split(","):
        row = run_one(task, settings, root)
        rows.append(row)
        print(f"\n{row['task']:<10} {row['model']:<10} {row['minutes']:5.1f} min  " + "  ".join(
            f"{k}={v}" for k, v in row.items() if k not in ("task", "model", "minutes", "examples", "data")),
            flush=True)  # each row as it is measured: an hour of runs is not lost to a failure in the last
        for line in row["examples"]:
            print("    " + line, flush=True)
    report("quality", {"settings": settings, "runs": rows})


if __name__ == "__main__":
    main()
