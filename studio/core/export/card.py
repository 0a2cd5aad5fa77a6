"""The README model card of an exported model: what it is, where it came from, what it learned on, how far it
got, and how to use it; with the Hub's metadata header, so the Hub files and shows it rightly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from studio import __version__
from studio.core.errors import StudioError
from studio.core.runs import layout, lineage, reader


def card(name: str, source: str, task: Any, *, gguf_file: str | None = None) -> str:
    """The card for the model `name` exported from `source` (a run's model or checkpoint, a folder, a hub id)."""
    run = layout.run_of(source) if Path(source).is_dir() else None
    info = _run_info(run)
    config = layout.read_config(run) if run is not None else {}
    chain = lineage.lineage(run, info.base) if info is not None and run is not None else []
    origin = _origin(chain, config) if config else source
    header = ["---", "library_name: transformers"]
    header += [f"pipeline_tag: {task.pipeline_tag}"] if task.pipeline_tag else []
    header += [f"base_model: {origin}"] if _is_hub_id(origin) else []
    header += ["tags:", "- transformer-studio", f"- {task.name}", *(["- gguf"] if gguf_file else []), "---"]
    rows = [("Task", f"{task.title} ({task.name})"), ("Started from", origin)]
    if len(chain) > 1:
        rows.append(("Lineage", lineage.describe(chain)))
    if config:
        rows += [("Data", str(config.get("data", "?"))), ("Settings", _settings(config, task))]
    if info is not None:
        rows.append(("Steps", f"{info.global_step:,} of {info.planned_steps:,}"))
        rows += [(title, f"{value:.4g}") for title, value in _final_metrics(info, task, config)]
    body = [f"# {name}", "", f"A {task.title.lower()} model trained with Transformer Studio {__version__}.", "",
            "| | |", "| --- | --- |", *(f"| {key} | {_cell(value)} |" for key, value in rows), "", "## Use", ""]
    body += _usage(task, gguf_file)
    return "\n".join(header) + "\n\n" + "\n".join(body)


def _run_info(run: Path | None) -> Any:
    if run is None:
        return None
    try:
        return reader.read(run, with_history=False)
    except StudioError:
        return None


def _origin(chain: list[dict[str, Any]], config: dict[str, Any]) -> str:
    """Where the first run of the chain started: a preset, a hub id, a folder."""
    first = layout.read_config(Path(chain[0]["path"])) if chain else config
    return str(first.get("model") or config.get("model") or "?")


def _settings(config: dict[str, Any], task: Any) -> str:
    names = ("max_steps", "batch_size", "lr", "seq_len", *(setting.name for setting in task.settings))
    shown = [f"{name} {config[name]}" for name in names if config.get(name) not in ("", None)]
    if config.get("lora"):
        shown.append(f"LoRA r {config.get('lora_r')}")
    return ", ".join(shown)


def _final_metrics(info: Any, task: Any, config: dict[str, Any]) -> list[tuple[str, float]]:
    """The last validation loss and the run's headline metrics, as the monitor shows them."""
    shown = [("eval_loss", "Validation loss"), *((m.name, m.title) for m in task.headline_of(config))]
    return [(f"{title}, last evaluation", float(info.last[name])) for name, title in shown
            if isinstance(info.last.get(name), (int, float))]


def _usage(task: Any, gguf_file: str | None) -> list[str]:
    if gguf_file:
        return ["With llama.cpp:", "", "```sh", f"llama-cli -m {gguf_file} -cnv", "```", "",
                "With Ollama, from this folder (its Modelfile names the file): `ollama create NAME -f Modelfile`.", ""]
    tag = task.pipeline_tag or "text-generation"
    return ["```python", "from transformers import pipeline", "", f'pipe = pipeline("{tag}", model="PATH_OR_REPO_ID")',
            "```", ""]


def _is_hub_id(text: str) -> bool:
    return text.count("/") == 1 and not Path(text).expanduser().exists()


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
