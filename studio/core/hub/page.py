"""A model's page on the Hub: its facts, files, card and config, read without downloading its weights.

The card and config are read into memory rather than through `hf_hub_download`, so a model a person only
looked at does not appear among the models on this machine.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from studio.core.hub import errors, reach
from studio.core.hub.search import license_of
from studio.core.hub.variants import RemoteFile, Variant, variants

_CARD_BYTES = 512 * 1024  # a card longer than this is cut; nobody reads further in a side panel


@dataclass(frozen=True)
class ModelPage:
    id: str
    sha: str  # the commit the page was read at, so a download gets the same files
    files: tuple[RemoteFile, ...]
    gated: bool
    license: str | None
    pipeline_tag: str | None
    downloads: int
    likes: int
    updated: str
    card: str  # the README's markdown, its metadata block left out
    config: dict[str, Any] | None  # config.json, or the base model's for a repository of GGUF files only
    config_from: str  # the repository the config came from
    parameters: int | None  # from the Hub's safetensors index
    variants: tuple[Variant, ...]

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)


def model_info(repo_id: str, revision: str | None = None) -> Any:
    """The Hub's record of `repo_id` with its files' sizes and hashes; a sentence offline or on any refusal."""
    from huggingface_hub import HfApi

    if not reach.reachable():
        raise errors.offline()
    try:
        return HfApi().model_info(repo_id, revision=revision, files_metadata=True)
    except Exception as exc:  # noqa: BLE001 - the client's and the network's errors become one sentence
        raise errors.explained(exc, repo_id, revision) from None


def files_of(info: Any) -> list[RemoteFile]:
    return [RemoteFile(s.rfilename, s.size or 0) for s in info.siblings or ()]


def read(repo_id: str, revision: str | None = None) -> ModelPage:
    info = model_info(repo_id, revision)
    files = tuple(files_of(info))
    sha = info.sha or revision or "main"
    names = {f.name for f in files}
    config = _json(repo_id, "config.json", sha) if "config.json" in names else None
    config_from = repo_id
    base = _base_model(info)
    if config is None and base:  # GGUF repositories carry the weights, their base model the config
        config, config_from = _json(base, "config.json", None), base
    card = _text(repo_id, "README.md", sha) if "README.md" in names else ""
    safetensors = getattr(info, "safetensors", None)
    return ModelPage(id=info.id, sha=sha, files=files, gated=bool(info.gated), license=license_of(info),
                     pipeline_tag=info.pipeline_tag, downloads=info.downloads or 0, likes=info.likes or 0,
                     updated=info.last_modified.strftime("%Y-%m-%dT%H:%M:%SZ") if info.last_modified else "",
                     card=_without_metadata(card), config=config, config_from=config_from if config else "",
                     parameters=getattr(safetensors, "total", None), variants=tuple(variants(list(files))))


def _base_model(info: Any) -> str | None:
    card = getattr(info, "card_data", None)
    base = card.get("base_model") if card is not None else None
    if isinstance(base, list):
        base = base[0] if base else None
    return str(base) if base else None


def _get(repo_id: str, filename: str, revision: str | None) -> bytes | None:
    """A small file of `repo_id`, or None when it is not there or cannot be read (a gated base model)."""
    from huggingface_hub import hf_hub_url
    from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

    url = hf_hub_url(repo_id, filename, revision=revision)
    try:
        with get_session().stream("GET", url, headers=build_hf_headers(), follow_redirects=True,
                                  timeout=15) as response:
            if response.status_code in (401, 403, 404):
                return None
            hf_raise_for_status(response)
            data = bytearray()
            for chunk in response.iter_bytes():
                data += chunk
                if len(data) >= _CARD_BYTES:
                    break
            return bytes(data)
    except Exception as exc:  # noqa: BLE001
        raise errors.explained(exc, repo_id, revision) from None


def _json(repo_id: str, filename: str, revision: str | None) -> dict[str, Any] | None:
    data = _get(repo_id, filename, revision)
    try:
        value = json.loads(data) if data else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _text(repo_id: str, filename: str, revision: str | None) -> str:
    data = _get(repo_id, filename, revision)
    return data.decode("utf-8", errors="replace") if data else ""


def _without_metadata(card: str) -> str:
    if card.startswith("---"):
        end = card.find("\n---", 3)
        if end != -1:
            return card[end + 4:].lstrip("\n")
    return card
