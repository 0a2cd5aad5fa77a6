"""Searching the Hub for models by text, filtered to those a task can train or run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from studio.core.hub import errors, reach

_EXPAND = ["downloads", "likes", "lastModified", "gated", "pipeline_tag", "safetensors", "cardData", "tags"]


@dataclass(frozen=True)
class Found:
    id: str
    downloads: int
    likes: int
    updated: str  # ISO 8601, UTC
    gated: bool
    parameters: int | None  # from the safetensors index the Hub keeps, when it has one
    license: str | None
    pipeline_tag: str | None

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "downloads": self.downloads, "likes": self.likes, "updated": self.updated,
                "gated": self.gated}


def search(text: str, tags: tuple[str, ...] = (), limit: int = 20) -> list[Found]:
    """The models whose id contains `text`, most downloaded first; with `tags`, only those with one of these
    pipeline tags (a task's `hub_tags`: what it can start from, a fill-mask encoder for classification, say)."""
    from huggingface_hub import HfApi

    if not reach.reachable():
        raise errors.offline()
    api = HfApi()
    found: dict[str, Found] = {}
    try:
        for tag in tags or (None,):
            for model in api.list_models(search=text or None, pipeline_tag=tag, sort="downloads", limit=limit,
                                         expand=_EXPAND):
                found.setdefault(model.id, _found(model))
    except Exception as exc:  # noqa: BLE001 - the client's and the network's errors become one sentence
        raise errors.explained(exc, text or "the Hub") from None
    return sorted(found.values(), key=lambda f: -f.downloads)[:limit]


def _found(model: Any) -> Found:
    updated = model.last_modified.strftime("%Y-%m-%dT%H:%M:%SZ") if model.last_modified else ""
    safetensors = getattr(model, "safetensors", None)
    return Found(id=model.id, downloads=model.downloads or 0, likes=model.likes or 0, updated=updated,
                 gated=bool(model.gated), parameters=getattr(safetensors, "total", None),
                 license=license_of(model), pipeline_tag=model.pipeline_tag)


def license_of(model: Any) -> str | None:
    """A model's licence from its card's metadata, else from its `license:` tag."""
    card = getattr(model, "card_data", None)
    named = card.get("license") if card is not None else None
    if named:
        return str(named)
    return next((t.removeprefix("license:") for t in model.tags or () if t.startswith("license:")), None)
