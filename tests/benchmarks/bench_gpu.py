"""GPU efficiency: GPT-2 124M (from config, 1024-token blocks) trained by Studio's engine against a plain
PyTorch loop on the same model, batch and device, each without and with torch.compile.

The plain loop is what a careful person writes by hand (nanoGPT-style): bf16 autocast, fused AdamW,
SDPA attention, TF32 matmuls, pinned batches copied without blocking. Both sides train on the same
token blocks of sample:python-code. Prints tokens/s, model FLOPs utilisation (MFU) against the GPU's
own dense bf16 peak, and peak memory. Targets: Studio >= 0.95 of the plain loop; >= 40% MFU with
compile on an H100.

    python tests/benchmarks/bench_gpu.py [--batch-size 16] [--steps 60] [--no-compile]

On a machine without CUDA it runs a few steps of a small model on the CPU, to check the script itself.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path
from typing import Any

from _common import engine_steps_per_second, report, scratch

# Dense bf16 tensor-core peaks from the vendors' data sheets (without sparsity), in FLOP/s.
_PEAKS = {"H100 PCIe": 756e12, "H100": 989e12, "H200": 989e12, "A100": 312e12, "L40S": 362e12, "A10": 125e12,
          "RTX 4090": 165e12, "RTX 3090": 71e12}
_SEQ = 1024
_VOCAB = 50304  # GPT-2's 50257 rounded up to a multiple of 64, as nanoGPT does: tensor cores like it


def peak_flops(name: str) -> float | None:
    for key in sorted(_PEAKS, key=len, reverse=True):  # "H100 PCIe" before "H100"
        if key in name:
            return _PEAKS[key]
    return None


def flops_per_token(config: Any, parameters: int) -> float:
    """6 FLOPs per weight per token (forward and backward) plus attention's, as in the PaLM paper's
    appendix and nanoGPT's estimate_mfu; position embeddings do no multiplications."""
    embedding = config.n_positions * config.n_embd
    return 6 * (parameters - embedding) + 12 * config.n_layer * config.n_embd * _SEQ


def build(root: Path, small: bool) -> tuple[Path, Any]:
    """GPT-2 124M (or a small one for a CPU check) with fresh weights, saved with a tokenizer trained on
    the sample, as a model folder Studio loads like any checkpoint."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    from studio.core.data import samples, sources
    from studio.core.data.tokenizer import train_bpe

    cache = root / "cache"
    samples.sample_path("sample:python-code", cache)
    rows = sources.load("sample:python-code", cache)
    tokenizer = train_bpe(sources.iter_texts(rows, ["text"]), 8192 if small else 32768, family="gpt2")
    config = GPT2Config(vocab_size=_VOCAB, n_positions=_SEQ, n_embd=128 if small else 768,
                        n_layer=2 if small else 12, n_head=4 if small else 12, bos_token_id=tokenizer.bos_token_id,
                        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(0)
    model = GPT2LMHeadModel(config)
    folder = root / "gpt2-124m"
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder, tokenizer


def blocks(root: Path, tokenizer: Any) -> Any:
    from studio.core.data import sources
    from studio.core.tasks.lm import blocks_of

    rows = sources.load("sample:python-code", root / "cache")
    train, _ = sources.split(rows, 0.05, 42)
    found, _ = blocks_of(train, tokenizer, "text", _SEQ)
    return found.with_format("torch")


def plain(folder: Path, data: Any, batch: int, steps: int, compile_: bool, device: str) -> tuple[float, int]:
    """Tokens/s over the steps after warm-up, and peak memory, of the hand-written loop."""
    import torch
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(folder, attn_implementation="sdpa").to(device)
    model.train()
    decay = [p for p in model.parameters() if p.ndim >= 2]
    rest = [p for p in model.parameters() if p.ndim < 2]
    cuda = device == "cuda"
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": rest, "weight_decay": 0.0}],
                                  lr=3e-4, fused=cuda)
    forward = torch.compile(model) if compile_ else model
    loader = torch.utils.data.DataLoader(data, batch_size=batch, shuffle=True, drop_last=True, pin_memory=cuda,
                                         num_workers=2 if cuda else 0)
    amp = torch.autocast(device_type="cuda", dtype=torch.bfloat16) if cuda else torch.autocast("cpu", enabled=False)
    warm = max(3, steps // 5)
    step, started = 0, 0.0
    while step < steps:
        for item in loader:
            ids = item["input_ids"].to(device, non_blocking=True)
            with amp:
                loss = forward(input_ids=ids, labels=ids).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            if step == warm:
                _sync(device)
                started = time.perf_counter()
            if step == steps:
                break
    _sync(device)
    seconds = time.perf_counter() - started
    return (steps - warm) * batch * _SEQ / seconds, _peak(device)


def studio(root: Path, folder: Path, batch: int, steps: int, compile_: bool, device: str, name: str) -> tuple[float, int]:
    """Tokens/s of Studio's engine between its logged steps after warm-up, and peak memory."""
    from studio.core.training.config import RunConfig

    config = RunConfig(data="sample:python-code", model=str(folder), seq_len=_SEQ, batch_size=batch,
                       max_steps=steps, eval_every=10**6, save_every=10**6, log_every=max(1, steps // 6), lr=3e-4,
                       compile=compile_, device=device)
    _reset(device)
    rate = engine_steps_per_second(root, config, name, warm_up=max(3, steps // 5) - 1)
    return rate * batch * _SEQ, _peak(device)


def _sync(device: str) -> None:
    import torch

    if device == "cuda":
        torch.cuda.synchronize()


def _reset(device: str) -> None:
    import torch

    if device == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def _peak(device: str) -> int:
    import torch

    return int(torch.cuda.max_memory_allocated()) if device == "cuda" else 0


def main() -> None:
    import torch
    from transformers import AutoConfig

    parser = argparse.ArgumentParser()
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--no-compile", action="store_true", help="measure only without torch.compile")
    args = parser.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    small = device != "cuda"
    batch, steps = (args.batch_size, args.steps) if not small else (2, 8)
    if device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True  # the plain loop's side; Studio sets it through Trainer
        torch.backends.cudnn.allow_tf32 = True
    root = scratch()
    folder, tokenizer = build(root, small)
    data = blocks(root, tokenizer)
    model_config = AutoConfig.from_pretrained(folder)
    parameters = _count(folder)
    per_token = flops_per_token(model_config, parameters)
    name = torch.cuda.get_device_name() if device == "cuda" else "cpu"
    peak = peak_flops(name)
    figures: dict[str, Any] = {"device": name, "parameters": parameters, "batch_size": batch, "seq_len": _SEQ,
                               "steps": steps, "peak_bf16_flops": peak}
    for compiled in ([False] if args.no_compile else [False, True]):
        label = "compiled" if compiled else "eager"
        _reset(device)
        plain_rate, plain_mem = plain(folder, data, batch, steps, compiled, device)
        studio_rate, studio_mem = studio(root, folder, batch, steps, compiled, device, f"run-{label}")
        figures[label] = {
            "plain_tokens_per_second": round(plain_rate), "studio_tokens_per_second": round(studio_rate),
            "ratio": round(studio_rate / plain_rate, 3),
            "plain_mfu": _mfu(plain_rate, per_token, peak), "studio_mfu": _mfu(studio_rate, per_token, peak),
            "plain_peak_gib": round(plain_mem / 2**30, 2), "studio_peak_gib": round(studio_mem / 2**30, 2)}
    report("gpu_efficiency", figures)


def _count(folder: Path) -> int:
    from transformers import AutoModelForCausalLM

    return sum(p.numel() for p in AutoModelForCausalLM.from_pretrained(folder).parameters())


def _mfu(rate: float, per_token: float, peak: float | None) -> float | None:
    return None if peak is None or not math.isfinite(rate) else round(rate * per_token / peak, 4)


if __name__ == "__main__":
    main()
