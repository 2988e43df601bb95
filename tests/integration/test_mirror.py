"""The mirror bot on real git repositories, real Nix (the stand-in set) and a directory
cache: enqueue, work, status, index entries; a hostile repository's code never runs."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Ran, run_zagi
from tests.integration.conftest import drop_roots


def _repo(path: Path, files: dict[str, str]) -> str:
    path.mkdir(parents=True)
    for name, text in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text)
    g = ["git", "-c", "user.name=t", "-c", "user.email=t@e", "-C", str(path)]
    subprocess.run([*g[:5], "init", "-q", "-b", "main", str(path)], check=True)
    subprocess.run([*g, "add", "-A"], check=True)
    subprocess.run([*g, "commit", "-qm", "init"], check=True)
    return subprocess.run([*g, "rev-parse", "HEAD"], check=True, capture_output=True,
                          text=True).stdout.strip()


@pytest.fixture
def github() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A local server with the two GitHub REST endpoints the mirror uses; the requests."""
    seen: list[dict[str, Any]] = []

    class Api(BaseHTTPRequestHandler):
        def log_message(self, *a: object) -> None:
            pass

        def _answer(self, code: int, data: object) -> None:
            body = json.dumps(data).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            seen.append({"method": "GET", "path": self.path,
                         "auth": self.headers.get("Authorization")})
            self._answer(200, {"default_branch": "main"})

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append({"method": "POST", "path": self.path, "body": body,
                         "auth": self.headers.get("Authorization")})
            self._answer(201, {"number": 7, "html_url": "https://example.invalid/pull/7"})

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}", seen
    srv.shutdown()


def test_mirror_publishes_a_node_repo_and_never_runs_a_hostile_one(
        tmp_path: Path, z: Callable[..., Ran], zenv: dict[str, str],
        github: tuple[str, list[dict[str, Any]]]) -> None:
    marker = tmp_path / "PWNED"
    node = tmp_path / "src" / "acme" / "web"
    commit = _repo(node, {".nvmrc": "20\n", "package.json": '{"name": "web"}\n'})
    hostile = tmp_path / "src" / "evil" / "app"
    outside = tmp_path / "outside"
    outside.mkdir()
    _repo(hostile, {
        ".nvmrc": "20\n",
        "package.json": json.dumps({"name": "x", "scripts": {
            "preinstall": f"touch {marker}", "postinstall": f"touch {marker}",
            "prepare": f"touch {marker}"}}),
        "Makefile": f".PHONY: all\nall:\n\ttouch {marker}\n",
        "setup.py": f"open('{marker}', 'w')\n",
        ".envrc": f"touch {marker}\n",
    })
    # Its own .zagi/ is a symlink out of the repository: the mirror must not write there.
    (hostile / ".zagi").symlink_to(outside)
    subprocess.run(["git", "-C", str(hostile), "-c", "user.name=t", "-c", "user.email=t@e",
                    "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(hostile), "-c", "user.name=t", "-c", "user.email=t@e",
                    "commit", "-qm", "own zagi"], check=True)
    mirror_key = z("keys", "generate", "mirror-1", cwd=tmp_path).out.strip()
    cache = tmp_path / "cache"
    queue = tmp_path / "queue"
    try:
        added = z("mirror", "add", f"file://{node}", f"file://{hostile}", "--queue", str(queue),
                  cwd=tmp_path)
        assert "queued 2 job(s)" in added.out
        again = z("mirror", "add", f"file://{node}", "--queue", str(queue), cwd=tmp_path)
        assert "queued 0 job(s), 1 already known" in again.out
        fork = tmp_path / "fork.git"  # a fork has the upstream's history (the clone is shallow)
        subprocess.run(["git", "clone", "-q", "--bare", str(node), str(fork)], check=True)
        zenv.update({"ZAGI_GITHUB_API": github[0], "ZAGI_GITHUB_TOKEN": "t0ken"})
        z("mirror", "work", "--once", "--to", f"file://{cache}", "--queue", str(queue),
          "--pr-remote", str(fork), "--pr-owner", "zagibot", cwd=tmp_path)
        for k in ("ZAGI_GITHUB_API", "ZAGI_GITHUB_TOKEN"):
            zenv.pop(k)
        status = json.loads(z("mirror", "status", "--json", "--queue", str(queue),
                              cwd=tmp_path).out)
        by_url = {j["url"]: j for j in status["jobs"]}
        web = by_url[f"file://{node}"]
        assert web["state"] == "published" and web["commit"] == commit and web["env_id"]
        assert {"clone", "detect", "lock", "build", "check", "publish"} <= set(web["timings"])
        entry = json.loads((cache / "mirrors" / "file" / "acme" / "web" /
                            f"{commit}.json").read_text())
        assert entry["status"] == "published" and 'node = "20"' in entry["env_toml"]
        assert [c["tool"] for c in entry["tool_checks"] if c["ok"]] == ["node"]
        assert entry["tool_checks"][0]["output"].startswith("v20.")
        # The offer: a branch on the fork with the env files, and the pull-request text.
        pr = entry["pr"]
        assert pr["branch"] == f"zagi/env-{commit[:12]}" and "I made your repo runnable" in \
            pr["body"] and ".nvmrc:1" in pr["body"]
        offered = subprocess.run(["git", "-C", str(fork), "show", f"{pr['branch']}:.zagi/env.toml"],
                                 capture_output=True, text=True, check=True).stdout
        assert offered == entry["env_toml"]
        parent = subprocess.run(["git", "-C", str(fork), "rev-parse", f"{pr['branch']}~1"],
                                capture_output=True, text=True, check=True).stdout.strip()
        assert parent == commit  # one commit on top of the mirrored one
        # ... and the pull request opened through the API, against the default branch.
        posts = [r for r in github[1] if r["method"] == "POST"]
        assert [r["path"] for r in posts] == ["/repos/acme/web/pulls"]
        assert posts[0]["body"]["head"] == f"zagibot:{pr['branch']}"
        assert posts[0]["body"]["base"] == "main" and posts[0]["auth"] == "Bearer t0ken"
        assert pr["opened"]["number"] == 7
        latest = json.loads((cache / "mirrors" / "file" / "acme" / "web" /
                             "latest.json").read_text())
        assert latest["commit"] == commit
        assert (cache / "nix-cache-info").exists()
        # The hostile repository: none of its scripts ran, nothing was written through its
        # symlinked .zagi, and its outcome is recorded either way.
        assert not marker.exists()
        assert list(outside.iterdir()) == []
        assert by_url[f"file://{hostile}"]["state"] in ("published", "failed")
        # Idempotent: a second pass over the same commit finds it published and skips it.
        z("mirror", "retry", "--queue", str(queue), f"file://{node}", cwd=tmp_path)
        second = json.loads(z("mirror", "work", "--once", "--json", "--to", f"file://{cache}",
                              "--queue", str(queue), cwd=tmp_path).out)
        assert [(j["status"], j["skipped"]) for j in second["jobs"]] == [("published", True)]
        unknown = z("mirror", "retry", "--queue", str(queue), "file:///nope", cwd=tmp_path,
                    check=False)
        assert unknown.code == 2 and "no finished job" in unknown.err
        # The viral loop: someone else clones the repository, which has no .zagi/, and
        # gets the mirror's env from the mirror's cache (whose key they trust).
        user = {**zenv, "ZAGI_HOME": str(tmp_path / "user-home")}
        got = run_zagi("clone", f"file://{node}", str(tmp_path / "mine"), "--cache",
                       f"file://{cache}", "--trust", mirror_key, cwd=tmp_path, env=user,
                       timeout=300)
        assert got.code == 0, got.err
        assert "using the mirror's env" in got.out and "Resolving env... cached from mirror" \
            in got.out, got.out
        mine = tmp_path / "mine"
        said = json.loads((mine / ".zagi" / "from-mirror.json").read_text())
        assert said == {"cache": f"file://{cache}", "commit": commit, "exact": True}
        assert (mine / ".zagi" / "env").resolve().joinpath("bin", "node").exists()
        clean = subprocess.run(["git", "-C", str(mine), "status", "--porcelain"],
                               capture_output=True, text=True, check=True)
        assert clean.stdout == ""  # the mirror's files are not the repository's
        # A commit the mirror has not seen: its newest mirrored env, said so.
        (node / "README").write_text("new\n")
        subprocess.run(["git", "-C", str(node), "add", "README"], check=True)
        subprocess.run(["git", "-C", str(node), "-c", "user.name=t", "-c", "user.email=t@e",
                        "commit", "-qm", "readme"], check=True)
        newer = run_zagi("clone", f"file://{node}", str(tmp_path / "mine2"), "--cache",
                         f"file://{cache}", "--trust", mirror_key, cwd=tmp_path, env=user,
                         timeout=300)
        assert newer.code == 0 and f"its newest mirrored commit, {commit[:12]}" in newer.out
        drop_roots(tmp_path / "user-home")
    finally:
        drop_roots(Path(zenv["ZAGI_HOME"]))
