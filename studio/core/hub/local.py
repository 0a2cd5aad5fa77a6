"""The models already on this machine: those in the shared Hugging Face cache (with their size, last use and any
download left part-way), and those in folders the person added; removing one from the cache."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from studio.core.errors import ConfigError, HubError
from studio.core.hub.download import cache_root, repo_folder
from studio.core.system import workspace
from studio.core.system.files import atomic_write_text

_FOLDERS = "model_folders.json"
_PENDING = "downloads"


@dataclass(frozen=True)
class LocalModel:
    id: str  # a hub id, or for a model in an added folder its path
    size_bytes: int
    path: str  # what `from_pretrained` (or the GGUF import) takes
    last_used: str | None  # ISO 8601, UTC; None for a model in an added folder, whose use Studio does not see
    in_cache: bool
    partial_bytes: int = 0  # of a download left part-way, kept for the next try

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "size_bytes": self.size_bytes, "path": self.path, "last_used": self.last_used}


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def cached() -> list[LocalModel]:
    """Every model in the cache, most recently used first."""
    from huggingface_hub import scan_cache_dir
    from huggingface_hub.errors import CacheNotFound

    try:
        info = scan_cache_dir(cache_root())
    except CacheNotFound:
        return []
    out = []
    for repo in info.repos:
        if repo.repo_type != "model":
            continue
        revisions = sorted(repo.revisions, key=lambda r: ("main" not in r.refs, -r.last_modified))
        partial = sum(p.stat().st_size for p in (repo.repo_path / "blobs").glob("*.incomplete"))
        path = revisions[0].snapshot_path if revisions else repo.repo_path
        out.append(LocalModel(repo.repo_id, repo.size_on_disk + partial, str(path),
                              _iso(max(repo.last_accessed, repo.last_modified)), True, partial))
    return sorted(out, key=lambda m: m.last_used, reverse=True)


def remove(repo_id: str) -> int:
    """Delete every revision of `repo_id` from the cache, parts of downloads included; the bytes freed."""
    found = next((m for m in cached() if m.id == repo_id), None)
    folder = repo_folder(repo_id)
    if found is None and not folder.exists():
        names = ", ".join(m.id for m in cached()[:5]) or "none yet"
        raise HubError(f"'{repo_id}' is not in the model cache ({cache_root()}); `studio models list` shows what "
                       f"is ({names}).")
    shutil.rmtree(folder, ignore_errors=True)
    shutil.rmtree(cache_root() / ".locks" / folder.name, ignore_errors=True)
    forget(repo_id)
    return found.size_bytes if found else 0


# ---- folders the person added -----------------------------------------------------------------------------
def _folders_file() -> Path:
    return workspace.workspace() / _FOLDERS


def folders() -> list[Path]:
    try:
        return [Path(p) for p in json.loads(_folders_file().read_text())]
    except (OSError, ValueError):
        return []


def add_folder(path: Path) -> None:
    path = path.expanduser().resolve()
    if not path.is_dir():
        raise ConfigError(f"'{path}' is not a folder; choose the folder that holds your models.")
    kept = [p for p in folders() if p != path] + [path]
    atomic_write_text(_folders_file(), json.dumps([str(p) for p in kept], indent=1))


def remove_folder(path: Path) -> None:
    atomic_write_text(_folders_file(), json.dumps([str(p) for p in folders() if p != path], indent=1))


def in_folders() -> list[LocalModel]:
    """The models in the added folders: each folder or subfolder with a config.json, and each GGUF file."""
    out = []
    for root in folders():
        if not root.is_dir():
            continue
        candidates = [root, *sorted(p for p in root.iterdir() if p.is_dir())]
        for folder in candidates:
            if (folder / "config.json").is_file():
                out.append(_local(folder, sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())))
        out += [_local(g, g.stat().st_size) for g in sorted(root.glob("*.gguf"))]
    return out


def _local(path: Path, size: int) -> LocalModel:
    # a file's times say when it was written or read by anything (a backup, an indexer), not when it was used
    return LocalModel(str(path), size, str(path), None, False)


def everything() -> list[LocalModel]:
    return cached() + in_folders()


# ---- downloads left part-way, so a restart of the app can offer to go on -----------------------------------
def _pending_file(repo_id: str) -> Path:
    return workspace.workspace() / _PENDING / (repo_folder(repo_id).name + ".json")


def remember(repo_id: str, revision: str | None, include: list[str] | None) -> None:
    atomic_write_text(_pending_file(repo_id), json.dumps({"id": repo_id, "revision": revision,
                                                          "include": include or []}))


def forget(repo_id: str) -> None:
    _pending_file(repo_id).unlink(missing_ok=True)


def pending() -> list[dict[str, Any]]:
    """The downloads started and not finished: {"id", "revision", "include"} each."""
    out = []
    for path in sorted((workspace.workspace() / _PENDING).glob("*.json")):
        try:
            out.append(json.loads(path.read_text()))
        except (OSError, ValueError):
            continue
    return out
