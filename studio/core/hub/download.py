"""Downloading a model into the standard Hugging Face cache, with progress, pause, cancel and resume.

Written here rather than through `snapshot_download` because the Hub client (2.4) cannot resume: each call
downloads into a file of its own name and deletes it on any failure, so a cancelled or crashed download
starts again from byte 0. This one writes where the client would (blobs/<etag>, snapshots/<commit>/<file>,
refs/<branch>), under the client's own lock for that blob, so transformers and every other tool reads what it
fetched, and keeps the part already fetched in blobs/<etag>.incomplete, which the next try continues with an
HTTP range request. A finished file is checked against the Hub's hash before it takes its place.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from studio.core.control import Control
from studio.core.errors import Cancelled, HubError
from studio.core.hub import errors, page, reach
from studio.core.hub.variants import RemoteFile, chosen
from studio.core.system import disk, sizes

_CHUNK = 1 << 20
_REPORT_S = 0.1  # progress at most ten times a second, whatever the speed
_RETRY_WAIT_S = 1.0


@dataclass(frozen=True)
class Progress:
    file: str
    file_done: int
    file_size: int
    done: int  # bytes on disk of all the files asked for, those fetched before included
    total: int
    speed: float  # bytes a second, over the last few seconds
    files_done: int
    files: int
    stage: str = "downloading"  # or "checking" (the hash of a finished file), "paused"

    @property
    def eta_s(self) -> float | None:
        return (self.total - self.done) / self.speed if self.speed > 0 else None


@dataclass(frozen=True)
class Plan:
    repo_id: str
    revision: str  # as asked: a branch, a tag or a commit
    sha: str  # the commit it named when planned, so every file comes from one commit
    files: tuple[RemoteFile, ...]
    etags: dict[str, str | None] = field(default_factory=dict)  # file -> blob name, when the listing says
    have: int = 0  # bytes already here, whole files and parts of files

    @property
    def total(self) -> int:
        return sum(f.size for f in self.files)


def cache_root() -> Path:
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def repo_folder(repo_id: str) -> Path:
    from huggingface_hub.file_download import repo_folder_name

    return cache_root() / repo_folder_name(repo_id=repo_id, repo_type="model")


def plan(repo_id: str, revision: str | None = None, include: list[str] | None = None) -> Plan:
    """The files a download of `repo_id` takes (`include`'s globs, or the weights in one format and what goes
    with them) and how much of them is here; a sentence when the disk cannot hold the rest."""
    info = page.model_info(repo_id, revision)
    files = tuple(chosen(page.files_of(info), include))
    etags = {s.rfilename: (s.lfs.sha256 if s.lfs else s.blob_id) for s in info.siblings or ()}
    made = Plan(repo_id, revision or "main", info.sha or revision or "main", files,
                {f.name: etags.get(f.name) for f in files})
    made = dataclasses.replace(made, have=sum(_present(made, f) for f in files))
    _check_space(made)
    return made


def _present(p: Plan, f: RemoteFile) -> int:
    """Bytes of `f` already here: all of them when its pointer exists, else the part fetched so far."""
    folder = repo_folder(p.repo_id)
    if (folder / "snapshots" / p.sha / f.name).exists():
        return f.size
    etag = p.etags.get(f.name)
    if etag:
        partial = folder / "blobs" / f"{etag}.incomplete"
        if (folder / "blobs" / etag).exists():
            return f.size
        if partial.exists():
            return min(partial.stat().st_size, f.size)
    return 0


def _check_space(p: Plan) -> None:
    needed = p.total - p.have
    where = cache_root()
    _, free = disk.free_bytes(where)
    if needed > free:
        raise HubError(f"The disk holding {where} has {sizes.text(free)} free and {p.repo_id} needs "
                       f"{sizes.text(needed)} more; free some space, or download fewer files (one variant).")


def download(p: Plan, progress: Callable[[Progress], None] | None = None, control: Control | None = None,
             retries: int = 2) -> Path:
    """Fetch `p`'s files that are not here yet; the snapshot folder, which `from_pretrained` reads as it is.

    Stops between chunks when `control` is stopped (raising `Cancelled`, the part fetched kept) and waits
    while it is paused (the connection closed meanwhile, a range request on resuming). A connection that
    drops is tried again `retries` times from where it stopped, then left as a sentence, the part kept."""
    meter = _Meter(p, progress)
    folder = repo_folder(p.repo_id)
    for index, f in enumerate(p.files):
        pointer = folder / "snapshots" / p.sha / f.name
        if not pointer.exists():
            _fetch(p, f, pointer, meter, control or Control(), retries)
        meter.finished(f)
    if p.revision != p.sha:  # a branch or tag: the client finds the commit it named through refs/
        ref = folder / "refs" / p.revision
        ref.parent.mkdir(parents=True, exist_ok=True)
        ref.write_text(p.sha)
    return folder / "snapshots" / p.sha


def ensure(repo_id: str, progress: Callable[[Progress], None] | None = None, control: Control | None = None) -> None:
    """Before a hub id loads: fetch what of its default files the cache lacks, with progress and a stop between
    chunks, rather than inside `from_pretrained` where nothing can be seen or stopped. Offline there is nothing
    to do (the cache is all there is; the load says what is missing)."""
    from studio.core.hub import local

    if not reach.reachable():
        return
    planned = plan(repo_id)
    if planned.have >= planned.total:
        return
    local.remember(repo_id, None, None)
    download(planned, progress, control)
    local.forget(repo_id)


def _fetch(p: Plan, f: RemoteFile, pointer: Path, meter: _Meter, control: Control, retries: int) -> None:
    from huggingface_hub import get_hf_file_metadata, hf_hub_url
    from huggingface_hub.file_download import _create_symlink
    from huggingface_hub.utils import WeakFileLock

    url = hf_hub_url(p.repo_id, f.name, revision=p.sha)
    try:
        meta = get_hf_file_metadata(url)
    except Exception as exc:  # noqa: BLE001
        raise errors.explained(exc, p.repo_id, p.revision) from None
    etag = meta.etag or p.etags.get(f.name)
    if not etag:
        raise HubError(f"The Hub gave no version (ETag) for {f.name} of {p.repo_id}, so it cannot be cached; try "
                       "again later.")
    size = meta.size if meta.size is not None else f.size
    folder = repo_folder(p.repo_id)
    blob = folder / "blobs" / etag
    blob.parent.mkdir(parents=True, exist_ok=True)
    pointer.parent.mkdir(parents=True, exist_ok=True)
    lock = cache_root() / ".locks" / folder.name / f"{etag}.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with WeakFileLock(lock):
        if not blob.exists():
            partial = blob.with_name(f"{etag}.incomplete")
            _stream(meta.location or url, partial, size, f, meter, control, retries, same_host=_same_host(
                meta.location or url, url))
            meter.stage(f, "checking")
            _verify(partial, etag, f.name, p.repo_id)
            os.replace(partial, blob)
        # the client's own way of pointing a snapshot at a blob: a relative symlink, a copy where there are none
        _create_symlink(str(blob), str(pointer), new_blob=True)


def _same_host(a: str, b: str) -> bool:
    from urllib.parse import urlparse

    return urlparse(a).netloc == urlparse(b).netloc


def _stream(url: str, partial: Path, size: int, f: RemoteFile, meter: _Meter, control: Control, retries: int,
            same_host: bool) -> None:
    from huggingface_hub.utils import build_hf_headers, get_session

    httpx = errors.http_library()
    # a storage service the Hub redirects to is given a signed address, never the person's token
    headers = build_hf_headers() if same_host else {}
    failures = 0
    while True:
        have = partial.stat().st_size if partial.exists() else 0
        if have > size:  # a part from another version of the file under the same name: start again
            partial.unlink()
            have = 0
        if have == size:
            return
        control.wait_while_paused()
        if control.stopped:
            raise Cancelled(_kept(f, partial, "The download was cancelled"))
        try:
            with get_session().stream("GET", url, headers={**headers, "Range": f"bytes={have}-"},
                                      follow_redirects=True, timeout=30) as response:
                if response.status_code == 416:  # nothing after `have`: a part that was already whole
                    return
                response.raise_for_status()
                mode = "ab" if response.status_code == 206 else "wb"  # 200: the server sends it all again
                meter.restart(f, have if mode == "ab" else 0)
                with partial.open(mode) as out:
                    for chunk in response.iter_bytes():  # as it arrives: a chunk size would hold back a part the drop loses
                        out.write(chunk)
                        meter.add(f, len(chunk))
                        if control.stopped or control.paused:
                            break
            if control.paused and not control.stopped:
                meter.stage(f, "paused")
                control.wait_while_paused()
                continue
            if control.stopped:
                raise Cancelled(_kept(f, partial, "The download was cancelled"))
            if partial.stat().st_size < size:  # the server closed early without an error
                raise httpx.RemoteProtocolError("incomplete body")
            return
        except (httpx.TransportError, httpx.RemoteProtocolError) as exc:
            failures += 1
            if failures > retries:
                raise HubError(_kept(f, partial, f"The connection to the Hub broke while downloading {f.name} "
                                     f"({type(exc).__name__})")) from None
            time.sleep(_RETRY_WAIT_S * failures)
        except httpx.HTTPStatusError as exc:
            raise HubError(f"The Hub answered {exc.response.status_code} while sending {f.name}; try again in a "
                           "moment (the part fetched is kept).") from None


def _kept(f: RemoteFile, partial: Path, what: str) -> str:
    have = partial.stat().st_size if partial.exists() else 0
    return (f"{what}; {sizes.text(have)} of {f.name} ({sizes.text(f.size)}) are kept, and downloading it again "
            "continues from there.")


def _verify(path: Path, etag: str, name: str, repo_id: str) -> None:
    """The file against the hash its ETag is: sha256 for large (LFS) files, git's blob hash for the others."""
    if len(etag) == 64:
        digest = hashlib.sha256()
    elif len(etag) == 40:
        digest = hashlib.sha1(f"blob {path.stat().st_size}\0".encode())
    else:
        return  # an ETag that is not a content hash: nothing to check against
    with path.open("rb") as source:
        while chunk := source.read(_CHUNK * 8):
            digest.update(chunk)
    if digest.hexdigest() != etag:
        path.unlink()
        raise HubError(f"{name} of {repo_id} arrived damaged (its hash is not the Hub's); it was removed, so "
                       "download it again.")


class _Meter:
    """Bytes done, speed and the throttle on reports, for the whole download."""

    def __init__(self, p: Plan, report: Callable[[Progress], None] | None) -> None:
        self.report = report
        self.total = p.total
        self.files = len(p.files)
        self.files_done = 0
        self.before = {f.name: _present(p, f) for f in p.files}  # counted until the file's own bytes come
        self.file_done = 0
        self.window: list[tuple[float, int]] = [(time.monotonic(), 0)]
        self.fetched = 0
        self.last = 0.0

    @property
    def done(self) -> int:
        return sum(self.before.values()) + self.file_done

    def restart(self, f: RemoteFile, have: int) -> None:
        self.before[f.name] = 0
        self.file_done = have
        self._send(f, "downloading", force=True)

    def add(self, f: RemoteFile, n: int) -> None:
        self.file_done += n
        self.fetched += n
        self._send(f, "downloading")

    def stage(self, f: RemoteFile, stage: str) -> None:
        self._send(f, stage, force=True)

    def finished(self, f: RemoteFile) -> None:
        self.before[f.name] = f.size
        self.file_done = 0
        self.files_done += 1
        self._send(f, "downloading", force=True, file_done=f.size)

    def _speed(self, now: float) -> float:
        self.window.append((now, self.fetched))
        while len(self.window) > 2 and now - self.window[0][0] > 5.0:
            self.window.pop(0)
        (t0, b0), (t1, b1) = self.window[0], self.window[-1]
        return (b1 - b0) / (t1 - t0) if t1 > t0 else 0.0

    def _send(self, f: RemoteFile, stage: str, force: bool = False, file_done: int | None = None) -> None:
        now = time.monotonic()
        if self.report is None or (not force and now - self.last < _REPORT_S):
            return
        self.last = now
        self.report(Progress(file=f.name, file_done=self.file_done if file_done is None else file_done,
                             file_size=f.size, done=min(self.done, self.total), total=self.total,
                             speed=self._speed(now), files_done=self.files_done, files=self.files, stage=stage))


def as_text(progress: Progress) -> str:
    """One line for a terminal or a status bar: the file, bytes, speed and time left."""
    eta = progress.eta_s
    left = "" if eta is None else f", {sizes.duration(eta)} left"
    if progress.stage != "downloading":
        return f"{progress.stage.capitalize()} {progress.file}…"
    return (f"{progress.file} ({min(progress.files_done + 1, progress.files)}/{progress.files}): {sizes.text(progress.done)} of "
            f"{sizes.text(progress.total)} at {sizes.text(progress.speed)}/s{left}")

