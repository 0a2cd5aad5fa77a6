"""A Hub that runs here: the endpoints `huggingface_hub` calls to search models, read a model's info and list
its folders, download its files (HEAD for the metadata, GET with ranges for the bytes, ETags and the commit), create a repository
and commit files to it; served on 127.0.0.1 from memory, so the real client is tested, never the network.

Written by hand because the servers that serve local repositories in the Hub's API (olah and the like)
mirror a Hub they reach over the network and take no uploads. Uploads ask for every file inline in the
commit ("regular"), so no LFS or Xet storage is needed. A token, when the server has one, is required on
every write; a gated repository's files need it too. A repository may be told to drop the connection
part-way through a file, once, as a network that fails for a moment does.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

UPDATED = "2026-11-30T12:00:00.000Z"
TOKEN = "hf_secret"  # the token of the tests' Hub (the `hub` fixture)
LFS = (".safetensors", ".bin", ".gguf", ".pt")  # stored in LFS on the Hub: their ETag is the sha256


def git_sha(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def etag(name: str, data: bytes) -> str:
    return hashlib.sha256(data).hexdigest() if name.endswith(LFS) else git_sha(data)


def sibling(name: str, data: bytes) -> dict:
    entry = {"rfilename": name, "size": len(data), "blobId": git_sha(data)}
    if name.endswith(LFS):
        entry["lfs"] = {"size": len(data), "sha256": etag(name, data), "pointerSize": 130}
    return entry


@dataclass
class Repo:
    private: bool = False
    files: dict[str, bytes] = field(default_factory=dict)
    commits: list[str] = field(default_factory=list)
    gated: bool = False
    downloads: int = 0
    likes: int = 0
    license: str = "apache-2.0"
    pipeline_tag: str = "text-generation"
    drop_after: dict[str, int] = field(default_factory=dict)  # file -> bytes sent before the connection drops, once
    pause_s: float = 0.0  # a wait after each 64 KB sent, as a slow network gives a file
    parameters: int | None = None  # the Hub's count from the safetensors headers, when it has one

    @property
    def sha(self) -> str:
        if self.commits:
            return self.commits[-1]
        return hashlib.sha1(b"".join(name.encode() + data for name, data in sorted(self.files.items()))).hexdigest()

    def card_metadata(self) -> dict[str, str]:
        """The README's metadata block, flat `key: value` lines only, as the Hub reads it into cardData."""
        text = self.files.get("README.md", b"").decode()
        if not text.startswith("---\n"):
            return {}
        block = text[4:].split("\n---", 1)[0]
        return dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)

    def summary(self, repo_id: str) -> dict:
        return {"id": repo_id, "modelId": repo_id, "downloads": self.downloads, "likes": self.likes,
                "lastModified": UPDATED, "gated": "auto" if self.gated else False, "private": self.private,
                "pipeline_tag": self.pipeline_tag, "tags": [self.pipeline_tag, f"license:{self.license}"],
                **({"safetensors": {"parameters": {"F32": self.parameters}, "total": self.parameters}}
                   if self.parameters else {})}


class Hub:
    def __init__(self, token: str | None = None) -> None:
        self.token = token
        self.repos: dict[str, Repo] = {}
        self.requests: list[str] = []
        self.ranges: list[tuple[str, int]] = []  # (file, first byte) of every GET of a file's bytes
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def add(self, repo_id: str, files: dict[str, bytes], **facts: object) -> Repo:
        repo = Repo(files=dict(files), **facts)
        self.repos[repo_id] = repo
        return repo

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _reply(self, status: int, body: dict | list, error: str = "") -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                if error:
                    self.send_header("X-Error-Code", error)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            def _authorised(self) -> bool:
                return bool(hub.token) and self.headers.get("Authorization") == f"Bearer {hub.token}"

            # ---- reads -------------------------------------------------------------------------------
            def do_HEAD(self) -> None:
                self.do_GET()

            def do_GET(self) -> None:
                url = urlparse(self.path)
                hub.requests.append(f"{self.command} {url.path}")
                parts = [unquote(p) for p in url.path.strip("/").split("/")]
                if parts[:2] == ["api", "whoami-v2"]:
                    if self._authorised():
                        self._reply(200, {"name": "person", "type": "user",
                                          "auth": {"accessToken": {"displayName": "studio-test", "role": "read"}}})
                    else:
                        self._reply(401, {"error": "Invalid credentials in Authorization header"})
                elif parts[:2] == ["api", "models"] and len(parts) == 2:
                    self._search(parse_qs(url.query))
                elif parts[:2] == ["api", "models"] and len(parts) >= 6 and parts[4] == "tree":
                    self._tree("/".join(parts[2:4]), "/".join(parts[6:]))
                elif parts[:2] == ["api", "models"] and len(parts) >= 4:
                    self._info("/".join(parts[2:4]), parts[5] if len(parts) > 5 and parts[4] == "revision" else None)
                elif len(parts) >= 5 and parts[2] == "resolve":
                    self._file("/".join(parts[:2]), parts[3], "/".join(parts[4:]))
                else:
                    self._reply(404, {"error": f"no such endpoint {url.path}"})

            def _search(self, query: dict[str, list[str]]) -> None:
                text = query.get("search", [""])[0].lower()
                tag = query.get("pipeline_tag", [None])[0]
                found = [(repo_id, repo) for repo_id, repo in hub.repos.items() if text in repo_id.lower()
                         and (tag is None or repo.pipeline_tag == tag) and not repo.private]
                found.sort(key=lambda item: -item[1].downloads)
                limit = int(query.get("limit", [len(found)])[0])
                self._reply(200, [repo.summary(repo_id) for repo_id, repo in found[:limit]])

            def _info(self, repo_id: str, revision: str | None) -> None:
                repo = hub.repos.get(repo_id)
                if repo is None:
                    self._reply(404, {"error": "Repository not found"}, "RepoNotFound")
                elif revision not in (None, "main", repo.sha):
                    self._reply(404, {"error": f"Invalid rev id: {revision}"}, "RevisionNotFound")
                else:
                    self._reply(200, {**repo.summary(repo_id), "sha": repo.sha, "cardData": {"license": repo.license, **repo.card_metadata()},
                                      "siblings": [sibling(name, data) for name, data in sorted(repo.files.items())]})

            def _tree(self, repo_id: str, folder: str) -> None:
                repo = hub.repos.get(repo_id)
                if repo is None:
                    self._reply(404, {"error": "Repository not found"}, "RepoNotFound")
                    return
                prefix = folder.rstrip("/") + "/" if folder else ""
                inside = [{"type": "file", "path": name, "size": len(data), "oid": git_sha(data)}
                          for name, data in sorted(repo.files.items()) if name.startswith(prefix)]
                if folder and not inside:
                    self._reply(404, {"error": f"{folder} does not exist"}, "EntryNotFound")
                else:
                    self._reply(200, inside)

            def _file(self, repo_id: str, revision: str, path: str) -> None:
                repo = hub.repos.get(repo_id)
                if repo is None:
                    self._reply(404, {"error": "Repository not found"}, "RepoNotFound")
                    return
                if revision not in ("main", repo.sha):
                    self._reply(404, {"error": f"Invalid rev id: {revision}"}, "RevisionNotFound")
                    return
                if repo.gated and not self._authorised():
                    self._reply(401, {"error": f"Access to model {repo_id} is restricted."}, "GatedRepo")
                    return
                if path not in repo.files:
                    self._reply(404, {"error": f"{path} does not exist"}, "EntryNotFound")
                    return
                data = repo.files[path]
                start = 0
                ranged = self.headers.get("Range", "")
                if ranged.startswith("bytes="):
                    start = int(ranged.removeprefix("bytes=").split("-")[0] or 0)
                self.send_response(206 if start else 200)
                self.send_header("X-Repo-Commit", repo.sha)
                self.send_header("ETag", f'"{etag(path, data)}"')
                self.send_header("Content-Length", str(len(data) - start))
                self.send_header("Accept-Ranges", "bytes")
                if start:
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                self.end_headers()
                if self.command == "HEAD":
                    return
                hub.ranges.append((path, start))
                drop = repo.drop_after.pop(path, None)
                if drop is not None:  # the network fails part-way: some bytes, then the connection is gone
                    self.wfile.write(data[start:start + drop])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if not repo.pause_s:
                    self.wfile.write(data[start:])
                    return
                for at in range(start, len(data), 1 << 16):
                    self.wfile.write(data[at:at + (1 << 16)])
                    time.sleep(repo.pause_s)

            # ---- writes ------------------------------------------------------------------------------
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                hub.requests.append(f"POST {self.path}")
                if hub.token and not self._authorised():
                    self._reply(401, {"error": "Invalid credentials in Authorization header"})
                    return
                path = self.path.split("?")[0]
                if path == "/api/validate-yaml":  # the client checks a README's metadata before committing it
                    self._reply(200, {"errors": [], "warnings": []})
                    return
                if path == "/api/repos/create":
                    spec = json.loads(body)
                    repo_id = f"{spec['organization']}/{spec['name']}"
                    if repo_id in hub.repos:
                        self._reply(409, {"error": "You already created this model repo", "url": self._url(repo_id)})
                        return
                    hub.repos[repo_id] = Repo(private=spec.get("visibility", "public") == "private")
                    self._reply(200, {"url": self._url(repo_id)})
                    return
                parts = path.split("/")  # /api/models/NS/NAME/(preupload|commit)/REV
                repo_id = "/".join(parts[3:5])
                if repo_id not in hub.repos:
                    self._reply(404, {"error": "Repository not found"}, "RepoNotFound")
                elif parts[5] == "preupload":
                    files = json.loads(body)["files"]
                    self._reply(200, {"files": [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False}
                                                for f in files]})
                elif parts[5] == "commit":
                    repo = hub.repos[repo_id]
                    for line in body.splitlines():
                        item = json.loads(line)
                        if item["key"] == "file":
                            repo.files[item["value"]["path"]] = base64.b64decode(item["value"]["content"])
                    oid = hashlib.sha1(body).hexdigest()
                    repo.commits.append(oid)
                    self._reply(200, {"commitUrl": f"{self._url(repo_id)}/commit/{oid}", "commitOid": oid})
                else:
                    self._reply(404, {"error": f"no such endpoint {path}"})

            def _url(self, repo_id: str) -> str:
                return f"{hub.endpoint}/{repo_id}"

        return Handler


def point_client(monkeypatch: Any, hub: Hub, token: str | None = None) -> None:
    """The Hub client (and Studio's reachability probe) pointed at `hub` and allowed online, as HF_ENDPOINT set
    before the client's import would: the client read its endpoint when the test session imported it."""
    from huggingface_hub import constants, hf_api

    from studio.core.hub import reach

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "ENDPOINT", hub.endpoint)
    monkeypatch.setattr(hf_api.api, "endpoint", hub.endpoint)  # the module's own client: `whoami`, `login` use it
    import transformers.utils.hub as transformers_hub

    monkeypatch.setattr(transformers_hub, "_hf_api", None)  # transformers keeps a client of its own, made once
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", hub.endpoint + "/{repo_id}/resolve/{revision}/{filename}")
    monkeypatch.setattr(reach, "_last", None)
    if token:
        monkeypatch.setenv("HF_TOKEN", token)
    else:
        monkeypatch.delenv("HF_TOKEN", raising=False)


@contextlib.contextmanager
def running(token: str | None = None) -> Iterator[Hub]:
    hub = Hub(token)
    thread = threading.Thread(target=hub.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hub
    finally:
        hub.server.shutdown()
        hub.server.server_close()


def model_files(folder: Any) -> dict[str, bytes]:
    """A model folder's files, as a repository of the Hub holds them."""
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def weights(size: int, seed: int = 0) -> bytes:
    """Bytes that stand for a weights file of `size`: random, so a part of one is never mistaken for another."""
    return random.Random(seed).randbytes(size)
