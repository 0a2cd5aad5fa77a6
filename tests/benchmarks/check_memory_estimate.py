"""The memory check against what training really takes: for a few small models of several families, Studio's
estimate (modeling.estimate, what `studio models info` and the Models panel say) beside the peak memory of a
plain training loop (AdamW, the task's head, the same batch, length and precision).

Each case runs in a child process. On CUDA the peak is `torch.cuda.max_memory_allocated`. On the CPU it is the
child's peak resident memory over the first training step, less its resident memory once the model is built,
plus the weights: so the libraries (and the model code transformers imports as it builds) are not counted, nor
the heap's growth over later steps, which is the C allocator keeping freed memory, not memory in use.
Target: every estimate within 25% of the measured peak.

    python tests/benchmarks/check_memory_estimate.py [--device cpu|cuda] [--steps 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
from typing import Any

from _common import report

_LLAMA = {"model_type": "llama", "hidden_size": 256, "intermediate_size": 688, "num_hidden_layers": 4,
          "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 8000}
_CASES: dict[str, dict[str, Any]] = {
    "gpt2-lm": {"config": {"model_type": "gpt2", "n_embd": 256, "n_layer": 4, "n_head": 4, "vocab_size": 8000,
                           "n_positions": 512}, "auto": "AutoModelForCausalLM", "batch": 8, "seq": 256},
    "llama-lm": {"config": _LLAMA, "auto": "AutoModelForCausalLM", "batch": 8, "seq": 256},
    "llama-lm-checkpointing": {"config": _LLAMA, "auto": "AutoModelForCausalLM", "batch": 8, "seq": 256,
                               "checkpointing": True},
    "bert-classify": {"config": {"model_type": "bert", "hidden_size": 256, "num_hidden_layers": 4,
                                 "num_attention_heads": 4, "intermediate_size": 1024, "vocab_size": 8000,
                                 "num_labels": 3}, "auto": "AutoModelForSequenceClassification", "batch": 16,
                      "seq": 128},
}
_GPU_CASES: dict[str, dict[str, Any]] = {  # larger, where a GPU's allocator is not the main cost
    "smollm2-135m-shape-lm": {"config": {"model_type": "llama", "hidden_size": 576, "intermediate_size": 1536,
                                         "num_hidden_layers": 30, "num_attention_heads": 9, "num_key_value_heads": 3,
                                         "vocab_size": 49152, "tie_word_embeddings": True},
                              "auto": "AutoModelForCausalLM", "batch": 8, "seq": 512},
    "bert-base-shape-classify": {"config": {"model_type": "bert", "num_labels": 3},
                                 "auto": "AutoModelForSequenceClassification", "batch": 32, "seq": 256},
}


def _config(case: dict[str, Any]) -> Any:
    from transformers import AutoConfig

    values = dict(case["config"])
    return AutoConfig.for_model(values.pop("model_type"), **values)


def child(name: str, device: str, precision: str, steps: int) -> None:
    import psutil
    import torch
    import transformers

    case = {**_CASES, **_GPU_CASES}[name]
    torch.manual_seed(0)
    model = getattr(transformers, case["auto"]).from_config(_config(case)).to(device)
    built = psutil.Process().memory_info().rss
    weights = sum(p.numel() * p.element_size() for p in model.parameters())
    if case.get("checkpointing"):
        model.gradient_checkpointing_enable()
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    vocab = model.config.vocab_size
    ids = torch.randint(0, vocab, (case["batch"], case["seq"]), device=device)
    labels = ids if "CausalLM" in case["auto"] else torch.randint(0, 3, (case["batch"],), device=device)
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    for _ in range(steps):
        with torch.autocast(device, dtype=torch.bfloat16, enabled=precision == "bf16"):
            loss = model(input_ids=ids, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    peak = (torch.cuda.max_memory_allocated() if device == "cuda"
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - built + weights)
    print(json.dumps({"peak": peak}))


def _run_child(name: str, device: str, precision: str, steps: int) -> int:
    args = [sys.executable, __file__, "--child", name, "--device", device, "--precision", precision,
            "--steps", str(steps)]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return int(json.loads(out.strip().splitlines()[-1])["peak"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if _cuda() else "cpu")
    parser.add_argument("--precision", default=None, help="fp32 or bf16 (default: bf16 on CUDA, fp32 elsewhere)")
    parser.add_argument("--steps", type=int, default=None, help="1 on the CPU (see above), 3 on a GPU")
    parser.add_argument("--child")
    args = parser.parse_args()
    precision = args.precision or ("bf16" if args.device == "cuda" else "fp32")
    steps = args.steps or (3 if args.device == "cuda" else 1)
    if args.child:
        child(args.child, args.device, precision, steps)
        return
    from studio.core.modeling.estimate import estimate

    cases = {**_CASES, **(_GPU_CASES if args.device == "cuda" else {})}
    rows = {}
    for name, case in cases.items():
        measured = _run_child(name, args.device, precision, steps)
        guess = estimate(_config(case), case["auto"], case["batch"], case["seq"], precision,
                         checkpointing=case.get("checkpointing", False))
        rows[name] = {"estimate_mb": round(guess.training_bytes / 2**20, 1), "measured_mb": round(measured / 2**20, 1),
                      "ratio": round(guess.training_bytes / measured, 3), "parameters": guess.parameters}
        print(name, rows[name], file=sys.stderr, flush=True)
    worst = max(abs(r["ratio"] - 1) for r in rows.values())
    report("memory_estimate", {"device": args.device, "precision": precision, "cases": rows,
                               "worst_error": round(worst, 3), "within_25_percent": worst <= 0.25})


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


if __name__ == "__main__":
    main()
