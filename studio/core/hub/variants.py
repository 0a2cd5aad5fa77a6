"""Which of a repository's files a person wants: the weights Studio loads in one format, not every format the
authors uploaded (ONNX, TensorFlow, Flax, several GGUF quantizations), and the choices among them."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass

from studio.core.errors import ConfigError

# Formats Studio never loads: transformers' other frameworks and exported runtimes
_OTHER_FORMATS = ("*.h5", "*.msgpack", "*.ot", "*.onnx", "*.onnx_data", "*.tflite", "*.mlmodel", "*.mlpackage/*",
                  "onnx/*", "openvino/*", "coreml/*", "tf_model*", "flax_model*", "rust_model*", "*.pb",
                  "*.nemo", "*.engine")
_WEIGHTS = ("*.safetensors", "*.bin", "*.pt", "*.pth", "*.gguf")
_QUANT = re.compile(r"(?i)(?<![A-Z0-9])(IQ\d_[A-Z0-9]+|Q\d_K_[SMLX]L?|Q\d_K|Q\d_\d|Q\d|TQ\d_\d|F16|BF16|F32|FP16)"
                    r"(?![A-Z0-9])")


@dataclass(frozen=True)
class RemoteFile:
    name: str
    size: int


@dataclass(frozen=True)
class Variant:
    title: str  # "Safetensors weights", "GGUF Q4_K_M"
    include: tuple[str, ...]  # the globs of `studio models download --include` that take it
    size: int  # bytes of its weights and of the files that go with them


def matches(name: str, patterns: tuple[str, ...] | list[str]) -> bool:
    return any(fnmatch.fnmatch(name, p) for p in patterns)


def _weights(files: list[RemoteFile], pattern: str) -> list[RemoteFile]:
    return [f for f in files if fnmatch.fnmatch(f.name, pattern) and not matches(f.name, _OTHER_FORMATS)]


def default_files(files: list[RemoteFile]) -> list[RemoteFile]:
    """What a download takes when the person names no files: the config, tokenizer and card, and the weights
    in one format, safetensors over PyTorch's pickles. A repository of several GGUF files has no default:
    the person picks a quantization."""
    kept = [f for f in files if not matches(f.name, _OTHER_FORMATS)]
    if _weights(files, "*.safetensors"):
        return [f for f in kept if not matches(f.name, ("*.bin", "*.pt", "*.pth", "*.gguf"))]
    if _weights(files, "*.bin") or _weights(files, "*.pt") or _weights(files, "*.pth"):
        return [f for f in kept if not fnmatch.fnmatch(f.name, "*.gguf")]
    ggufs = _weights(files, "*.gguf")
    if len(ggufs) > 1:
        example = next((g for g in ggufs if "q4_k_m" in g.name.lower()), ggufs[0])
        raise ConfigError(f"This repository holds {len(ggufs)} GGUF files, one per quantization; choose one with "
                          f"--include (for example --include '{example.name}').")
    return kept


def chosen(files: list[RemoteFile], include: list[str] | None) -> list[RemoteFile]:
    """The files `include` (shell globs) names, or the default ones; a sentence when the globs match none."""
    if not include:
        return default_files(files)
    picked = [f for f in files if matches(f.name, include)]
    if not picked:
        names = ", ".join(f.name for f in files[:8]) + (", …" if len(files) > 8 else "")
        raise ConfigError(f"--include {' '.join(include)} matches none of the repository's files ({names}); "
                          "use a glob such as '*.safetensors' or a file's name.")
    return picked


def quantization(name: str) -> str | None:
    """The quantization a GGUF file's name gives (Q4_K_M, Q8_0, F16), as llama.cpp's tools name them."""
    found = _QUANT.findall(name.rsplit("/", 1)[-1].removesuffix(".gguf"))
    return found[-1].upper() if found else None


def variants(files: list[RemoteFile]) -> list[Variant]:
    """The weights to choose from: one entry for the safetensors (or PyTorch) weights with everything that goes
    with them, and one per GGUF file, smallest first."""
    out: list[Variant] = []
    support = [f for f in files if not matches(f.name, _OTHER_FORMATS + _WEIGHTS)]
    for pattern, title in (("*.safetensors", "Safetensors weights"), ("*.bin", "PyTorch weights (.bin)")):
        weights = _weights(files, pattern)
        if weights:
            out.append(Variant(title, (pattern,) + tuple(f.name for f in support),
                               sum(f.size for f in weights + support)))
            break
    for gguf in sorted(_weights(files, "*.gguf"), key=lambda f: f.size):
        out.append(Variant(f"GGUF {quantization(gguf.name) or gguf.name}", (gguf.name,), gguf.size))
    return out
