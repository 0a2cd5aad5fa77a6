"""Getting a model out to where people run it: a clean model folder (`hf`), a GGUF file for llama.cpp and LM
Studio (`gguf`), a folder Ollama makes a model of (`ollama`), or a Hub repository (`hub`).

An export is planned first (`plan`): the checks a person's choices must pass and what will be written, with
its size, so the window and the command line can say it before anything starts. `run` then writes it,
reporting progress, stoppable, and whole or not at all: nothing is left at the chosen path when it is
cancelled or fails.
"""

from __future__ import annotations

import errno
import math
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.core.control import Control
from studio.core.errors import ConfigError, ModelError
from studio.core.export import card, hub, ollama, to_gguf
from studio.core.export.to_gguf import ExportError
from studio.core.runs import guard, layout
from studio.core.system import disk, sizes
from studio.core.system.files import atomic_dir, atomic_write_text

FORMATS = {
    "hf": "a model folder: safetensors weights, the tokenizer with its chat template, a model card",
    "gguf": "one GGUF file for llama.cpp and LM Studio, through llama.cpp's own converter",
    "ollama": "a folder with the GGUF file and a Modelfile, for 'ollama create'",
    "hub": "the model folder pushed to a Hugging Face Hub repository (private unless --public)",
}
DEFAULT_QUANT = "f16"
# where a person chooses the path and whether to replace it, named in the sentences that refuse a choice
CLI_CONTROLS = {"out": "--out", "overwrite": "add --overwrite"}
_SPARE = 1.05  # the disk must hold this much more than the estimate (headers, tokenizer, card)
_TOKENIZER_BYTES = 4 * 2**20  # an allowance for tokenizer files not on this machine yet
_TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "vocab.json", "merges.txt", "spiece.model")

Progress = Callable[[str, float | None], None]


@dataclass(frozen=True)
class Model:
    """What a model to export is, read once from its folder (config, tokenizer, safetensors headers): the dialog
    plans many exports of the same model as a person changes the format and the path."""

    given: str  # what the person named: a run, a checkpoint, a folder, a GGUF file, a hub id
    source: str  # what loads
    name: str  # its name in file names and the card
    config: dict[str, Any]
    task: Any
    weight_bytes: int  # 0 when not on this machine
    weights: int  # how many weights, from the safetensors headers
    tokenizer_bytes: int
    plain: bool  # a folder llama.cpp's converter reads as it is


def look(model: str) -> Model:
    """Read what an export of `model` needs to know of it."""
    from studio.core.data.tokenizer import load_tokenizer
    from studio.core.modeling import loading
    from studio.core.tasks import registry

    source = layout.model_source(model)
    config = loading.load_config(source)
    run = layout.run_of(source) if Path(source).is_dir() else None
    settings = layout.read_config(run) if run is not None else {}
    task = registry.for_model(config, settings.get("task"), load_tokenizer(source))
    files = sorted(Path(source).glob("*.safetensors")) if Path(source).is_dir() else []
    return Model(model, source, _name(model, source), config.to_dict(), task, sum(f.stat().st_size for f in files),
                 _weight_count(files), _tokenizer_bytes(source), _plain_folder(source, files))


@dataclass
class Planned:
    format: str
    model: str
    out: str  # a path, or for `hub` a repository id
    quant: str | None
    source: str  # what loads: a model folder or a hub id
    task: Any
    name: str  # the model's name in file names and the card
    public: bool = False
    target: Path | None = None  # the folder (hf, ollama) or file (gguf) written; None for hub
    writes: list[tuple[str, int | None]] = field(default_factory=list)  # path, estimated bytes
    notes: list[str] = field(default_factory=list)

    def describe(self) -> list[str]:
        """What it will write, with sizes, and anything a person should know first."""
        if self.format == "hub":
            from huggingface_hub import constants

            where = f"{constants.ENDPOINT}/{self.out} ({'public' if self.public else 'private'})"
            lines = [f"Pushes {self.name} ({self.task.title.lower()}) to {where}, about {_size(self.writes[0][1])}."]
        else:
            lines = [f"Writes {path} ({_size(size)})" for path, size in self.writes]
        return lines + self.notes


@dataclass(frozen=True)
class Result:
    paths: list[str]
    message: str
    command: str = ""  # what to run next: `ollama create` for an Ollama folder


def plan(model: str | Model, fmt: str, out: str, quant: str | None = None, *, overwrite: bool = False,
         public: bool = False, controls: dict[str, str] = CLI_CONTROLS) -> Planned:
    """Check an export before anything is written; a sentence for each choice that cannot work, naming the
    `controls` where the path is chosen. `model` is a name, or what `look` read of it."""
    if fmt not in FORMATS:
        raise ConfigError(f"Unknown format '{fmt}'; choose one of {', '.join(FORMATS)}.")
    if fmt in ("hf", "hub") and quant:
        raise ConfigError(f"--quant is for gguf and ollama files; {fmt} keeps the model's own weights.")
    quant = (quant or DEFAULT_QUANT) if fmt in ("gguf", "ollama") else None
    if quant is not None and quant not in to_gguf.QUANTS:
        raise ConfigError(f"Unknown --quant '{quant}'; choose one of {', '.join(to_gguf.QUANTS)} (llama.cpp's "
                          "quantize tool makes the smaller types from an f16 file).")
    if public and fmt != "hub":
        raise ConfigError("--public is for --format hub; the other formats write files on this machine.")
    found = look(model) if isinstance(model, str) else model
    planned = Planned(fmt, found.given, out, quant, found.source, found.task, found.name, public)
    hf_bytes = found.weight_bytes + found.tokenizer_bytes if found.weight_bytes else None
    if fmt in ("gguf", "ollama"):
        _check_gguf(found.config, found.task, found.given, fmt)
    if fmt == "hub":
        hub.check_repo_id(out)
        hub.check_reachable()
        planned.writes = [(out, hf_bytes)]
        return planned
    path = planned.target = _out_path(Path(out).expanduser(), fmt, found.name, quant, overwrite, controls)
    guard.check_replaceable(path, reading=(found.given, found.source), control=controls["out"])
    if fmt == "hf":
        planned.writes = [(str(path), hf_bytes)]
    else:
        size = int(found.weights * to_gguf.BYTES_PER_WEIGHT[quant]) + found.tokenizer_bytes if found.weights else None
        file = path / f"{ollama.model_name(found.name)}-{quant}.gguf" if fmt == "ollama" else path
        planned.writes = [(str(file), size)] + ([(str(path / "Modelfile"), 1024)] if fmt == "ollama" else [])
        if found.config.get("model_type") and found.task.shapes != ("decoder-only",):
            planned.notes.append(f"A {found.task.title.lower()} model is converted as llama.cpp's converter converts "
                                 "it; Studio checks GGUF files of decoder-only models only (by loading them back).")
        if quant == "q8_0":
            planned.notes.append("Q8_0 keeps 8 bits a weight: close to f16 in what it answers, at about half the size.")
    staging = 0 if found.plain or fmt == "hf" else hf_bytes or 0  # a clean folder first for the converter to read
    _check_space(path, sum(size or 0 for _, size in planned.writes) + staging, controls)
    return planned


def run(planned: Planned, *, progress: Progress | None = None, control: Control | None = None) -> Result:
    """Write what `planned` says; whole or not at all."""
    report = progress or (lambda stage, fraction: None)
    control = control or Control()
    try:
        if planned.format == "hf":
            with atomic_dir(planned.target) as folder:
                _write_hf(planned, folder, report, control)
            return Result([str(planned.target)], f"Wrote {planned.target} ({_size(_folder_bytes(planned.target))}).")
        if planned.format == "hub":
            with tempfile.TemporaryDirectory(prefix="studio-export-") as staging:
                folder = Path(staging) / planned.name
                folder.mkdir()
                _write_hf(planned, folder, _part(report, 0.0, 0.5), control)
                url = hub.push(folder, planned.out, private=not planned.public, progress=_part(report, 0.5, 1.0))
            return Result([url], f"Pushed {planned.name} to {url}.")
        if planned.format == "gguf":
            _write_gguf(planned, planned.target, report, control)
            return Result([str(planned.target)], f"Wrote {planned.target} ({_size(planned.target.stat().st_size)}).")
        return _write_ollama(planned, report, control)
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise ExportError(f"The disk filled up while writing {planned.out}; nothing of the export was kept. Free "
                              "some space and export again.") from None
        raise


# ---- the formats ------------------------------------------------------------------------------------------
def _write_hf(planned: Planned, folder: Path, report: Progress, control: Control) -> None:
    from studio.core.system.quiet import quiet_transformers
    from studio.core.tasks import loaded as inference

    report(f"Loading {planned.name}…", 0.05)
    model = inference.load(planned.model, device="cpu")
    control.checkpoint()
    weights = model.model.merge_and_unload() if hasattr(model.model, "peft_config") else model.model
    report("Saving the weights…", 0.4)
    with quiet_transformers():
        weights.save_pretrained(str(folder), safe_serialization=True)
        model.tokenizer.save_pretrained(str(folder))
    control.checkpoint()
    report("Writing the model card…", 0.95)
    atomic_write_text(folder / "README.md", card.card(planned.name, planned.source, planned.task))
    report("Done.", 1.0)


def _write_gguf(planned: Planned, file: Path, report: Progress, control: Control) -> None:
    to_gguf.check_converter()
    with _hf_folder(planned, file.parent, report, control) as (folder, share):
        to_gguf.convert(folder, file, planned.quant, control=control,
                        progress=lambda stage, fraction: report(stage, None if fraction is None else
                                                                share + (1 - share) * fraction))


def _write_ollama(planned: Planned, report: Progress, control: Control) -> Result:
    from studio.core.data.tokenizer import load_tokenizer

    target = planned.target
    file_name = Path(planned.writes[0][0]).name
    with atomic_dir(target) as folder:
        _write_gguf(planned, folder / file_name, _part(report, 0.0, 0.95), control)
        tokenizer = load_tokenizer(planned.source)
        made = ollama.write(tokenizer, file_name, ollama.generation_settings(Path(planned.source)))
        atomic_write_text(folder / "Modelfile", made.text)
        atomic_write_text(folder / "README.md", card.card(planned.name, planned.source, planned.task,
                                                           gguf_file=file_name))
    return Result([str(target / file_name), str(target / "Modelfile")],
                  " ".join([f"Wrote {target} ({_size(_folder_bytes(target))}).", *made.notes]),
                  ollama.create_command(target, ollama.model_name(planned.name)))


@contextmanager
def _hf_folder(planned: Planned, near: Path, report: Progress, control: Control) -> Any:
    """A folder llama.cpp's converter can read, and the share of the progress already spent on it: the
    source itself when it is a plain model folder, else a clean export of it beside the output (removed after)."""
    if _plain_folder(planned.source, sorted(Path(planned.source).glob("*.safetensors"))):
        yield Path(planned.source), 0.0
        return
    near.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".studio-export-", dir=near) as staging:
        _write_hf(planned, Path(staging), _part(report, 0.0, 0.4), control)
        yield Path(staging), 0.4


# ---- checks and sizes -------------------------------------------------------------------------------------
def _check_gguf(config: dict[str, Any], task: Any, model: str, fmt: str) -> None:
    architecture = (config.get("architectures") or [config.get("model_type", "unknown")])[0]
    if not to_gguf.supported(architecture):
        raise ModelError(f"llama.cpp's converter does not convert {architecture} models, so '{model}' cannot become a "
                         "GGUF file; export it with --format hf (a model folder transformers loads) or --format hub.")
    if fmt == "ollama" and task.shapes != ("decoder-only",):
        raise ConfigError(f"Ollama runs models that write text; '{model}' is a {task.title.lower()} model. Export it "
                          "with --format gguf or hf.")


def _out_path(path: Path, fmt: str, name: str, quant: str | None, overwrite: bool,
              controls: dict[str, str]) -> Path:
    """Where the export goes, checked: never under a file, never over something unless asked."""
    above = next((p for p in path.parents if p.exists()), None)
    if above is not None and not above.is_dir():
        raise ConfigError(f"{path} is inside {above}, which is a file; choose a path in a folder for "
                          f"{controls['out']}.")
    if fmt == "gguf" and path.is_dir():
        path = path / f"{ollama.model_name(name)}-{quant}.gguf"
    if path.exists() and not (path.is_dir() and not any(path.iterdir())) and not overwrite:
        raise ConfigError(f"{path} already exists; choose another {controls['out']}, or {controls['overwrite']} "
                          "to replace it.")
    if fmt == "gguf" and path.suffix.lower() != ".gguf":
        raise ConfigError(f"A GGUF file's name ends in .gguf; give {controls['out']} as a .gguf file or a folder, "
                          f"not {path.name}.")
    return path


def _check_space(path: Path, needed: int, controls: dict[str, str]) -> None:
    above, free = disk.free_bytes(path)
    if needed * _SPARE > free:
        raise ExportError(f"The disk holding {above} has {_size(free)} free and the export needs about "
                          f"{_size(int(needed * _SPARE))}; free some space or choose another {controls['out']}.")


def _plain_folder(source: str, weight_files: list[Path]) -> bool:
    """A local model folder llama.cpp's converter reads as it is (weights in safetensors, a fast tokenizer)."""
    from studio.core.modeling import lora

    return bool(weight_files) and not lora.is_adapter(source) and (Path(source) / "tokenizer.json").is_file()


def _tokenizer_bytes(source: str) -> int:
    folder = Path(source)
    if not folder.is_dir():
        return _TOKENIZER_BYTES
    return sum((folder / name).stat().st_size for name in _TOKENIZER_FILES if (folder / name).is_file())


def _weight_count(files: list[Path]) -> int:
    """The weights in safetensors files, from their headers (nothing is loaded)."""
    from safetensors import safe_open

    total = 0
    for path in files:
        with safe_open(str(path), "np") as f:
            names = f.keys()  # safe_open itself is iterable in some safetensors releases only
            total += sum(math.prod(f.get_slice(key).get_shape()) for key in names)
    return total


def _name(model: str, source: str) -> str:
    run = layout.run_of(source) if Path(source).is_dir() else None
    if run is not None:
        return run.name
    path = Path(model)
    return path.stem if path.suffix.lower() == ".gguf" else (path.name or model).replace("/", "-")


def _part(report: Progress, start: float, end: float) -> Progress:
    """Progress of one part of an export, as a share of the whole."""
    return lambda stage, fraction: report(stage, None if fraction is None else start + (end - start) * fraction)


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _size(size: int | None) -> str:
    if size is None:
        return "size unknown until it is loaded"
    return sizes.text(size)
