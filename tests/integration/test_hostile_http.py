"""A hostile HTTP cache on 127.0.0.1 (a repo can name any cache URL): huge answers, answers
that drip in forever, and redirects elsewhere. Each read ends, bounded, with a clear error."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from zagi.core.errors import Unavailable
from zagi.storage import open_url

pytestmark = pytest.mark.integration


class Hostile(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    other_port = 0

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        if self.path.startswith("/huge/"):  # says 3 GB, and would send them
            self.send_response(200)
            self.send_header("Content-Length", str(3 << 30))
            self.end_headers()
            self._stream(b"\0" * (1 << 20), 3 << 10)
        elif self.path.startswith("/chunked-huge/"):  # no Content-Length at all
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self._stream(b"x" * (1 << 20), 64)
        elif self.path.startswith("/drip/"):  # one byte a second, for a minute
            self.send_response(200)
            self.send_header("Content-Length", "60")
            self.end_headers()
            for _ in range(60):
                if not self._stream(b"{", 1):
                    return
                time.sleep(1)
        elif self.path.startswith("/redirect/"):  # to another host, same port
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.2:{self.server.server_address[1]}/x")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path.startswith("/local-redirect/"):  # within the same origin: fine
            self.send_response(302)
            self.send_header("Location", "/ok/" + self.path.split("/", 2)[2])
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            body = b'{"env_id": "x"}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def _stream(self, chunk: bytes, times: int) -> bool:
        try:
            for _ in range(times):
                self.wfile.write(chunk)
            return True
        except (BrokenPipeError, ConnectionResetError):
            return False  # the client gave up: what we want


@pytest.fixture(scope="module")
def hostile() -> Iterator[str]:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
    srv.daemon_threads = True
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        return next(int(ln.split()[1]) for ln in fh if ln.startswith("VmRSS:")) / 1024


@pytest.mark.parametrize("kind", ["huge", "chunked-huge"])
def test_a_huge_manifest_is_cut_off_without_filling_memory(hostile: str, kind: str) -> None:
    before = _rss_mb()
    t0 = time.monotonic()
    with pytest.raises(Unavailable, match="allowed"):
        open_url(f"{hostile}/{kind}").get("envs/abc.json")
    assert time.monotonic() - t0 < 10
    assert _rss_mb() - before < 64  # read at most the 4 MiB limit


def test_a_dripping_answer_ends_at_the_deadline(hostile: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZAGI_HTTP_DEADLINE", "3")
    t0 = time.monotonic()
    with pytest.raises(Unavailable, match=r"within 3 s|timed out|ReadTimeout"):
        open_url(f"{hostile}/drip").get("envs/abc.json")
    assert time.monotonic() - t0 < 8


def test_redirects_to_another_host_are_refused(hostile: str) -> None:
    with pytest.raises(Unavailable, match="another host"):
        open_url(f"{hostile}/redirect").get("envs/abc.json")
    assert open_url(f"{hostile}/local-redirect").get("envs/abc.json") == b'{"env_id": "x"}'
