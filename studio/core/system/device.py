"""Which device and precision to train on, and how much memory a job is using there."""

from __future__ import annotations

import os

from studio.core.errors import ConfigError

DEVICES = ("auto", "cuda", "mps", "cpu")
PRECISIONS = ("auto", "bf16", "fp16", "fp32")


def pick_device(requested: str = "auto") -> str:
    """The device to use: the requested one if it exists here, else cuda, then mps, then cpu."""
    import torch

    requested = requested.lower()
    base = requested.split(":")[0]
    if base not in DEVICES:
        raise ConfigError(f"Unknown device '{requested}'; choose one of {', '.join(DEVICES)}.")
    cuda = torch.cuda.is_available()
    mps = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    if base == "cuda" and not cuda:
        raise ConfigError("No CUDA GPU is visible to PyTorch on this machine; use --device cpu (or auto), "
                          "or install a CUDA build of torch.")
    if base == "mps" and not mps:
        raise ConfigError("Apple's MPS backend is not available here; use --device cpu (or auto).")
    if base != "auto":
        return requested
    return "cuda" if cuda else "mps" if mps else "cpu"


def pick_precision(device: str, requested: str = "auto") -> str:
    """bf16 where the GPU supports it, fp16 on older CUDA GPUs, fp32 elsewhere (CPU, MPS)."""
    import torch

    if requested not in PRECISIONS:
        raise ConfigError(f"Unknown precision '{requested}'; choose one of {', '.join(PRECISIONS)}.")
    on_cuda = device.startswith("cuda")
    if requested == "auto":
        if on_cuda:
            return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        return "fp32"
    if requested == "fp16" and not on_cuda:
        raise ConfigError("fp16 mixed precision needs a CUDA GPU; use bf16 or fp32 on this device.")
    if requested == "bf16" and on_cuda and not torch.cuda.is_bf16_supported():
        raise ConfigError("This GPU does not support bf16; use fp16 or fp32.")
    return requested


def memory_used(device: str) -> int:
    """Bytes in use by this process on `device`: peak allocated on CUDA, resident memory elsewhere."""
    import torch

    if device.startswith("cuda") and torch.cuda.is_available():
        return int(torch.cuda.max_memory_allocated())
    if device == "mps" and hasattr(torch, "mps"):
        return int(torch.mps.current_allocated_memory())
    import psutil

    return int(psutil.Process(os.getpid()).memory_info().rss)


def memory_total(device: str) -> int:
    """Bytes of memory on `device`: the GPU's own on CUDA, the machine's RAM elsewhere (MPS shares it)."""
    import torch

    if device.startswith("cuda") and torch.cuda.is_available():
        return int(torch.cuda.get_device_properties(torch.device(device)).total_memory)
    import psutil

    return int(psutil.virtual_memory().total)


def has_tf32(device: str) -> bool:
    """Whether `device` is a CUDA GPU with TF32 tensor cores (compute capability 8 or later)."""
    import torch

    return device.startswith("cuda") and torch.cuda.get_device_capability(torch.device(device))[0] >= 8


def describe(device: str) -> str:
    import torch

    if device.startswith("cuda"):
        return f"{device} ({torch.cuda.get_device_name(torch.device(device))})"
    return device
