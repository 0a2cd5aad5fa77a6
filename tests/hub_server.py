"""A Hub that runs here: the endpoints `huggingface_hub` calls to create a repository and commit files to it,
served on 127.0.0.1 from memory, so pushes are tested against the real client and never the network.

Written by hand because the servers that serve local repositories in the Hub's API (olah and the like)
mirror downloads and take no uploads. Every file is asked to come inline in the commit ("regular"), so no
LFS or Xet storage is needed. A token, when the server has one, is required on every request.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Repo:
    private: bool
    files: dict[str, bytes] = field(default_factory=dict)
    commits: list[str] = field(default_factory=list)


class Hub:
    def __init__(self, token: str | None = None) -> None:
        self.token = token
        self.repos: dict[str, Repo] = {}
        self.requests: list[str] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _reply(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:  # noqa: N802 - the HTTP server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                hub.requests.append(f"POST {self.path}")
                if hub.token and self.headers.get("Authorization") != f"Bearer {hub.token}":
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
                    self._reply(404, {"error": "Repository not found"})
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
