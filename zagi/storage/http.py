"""http(s):// — a cache read over HTTP (a LAN server, a CDN, a public bucket). Read-only.

The server is untrusted (a repo can name it), so every read is bounded: a size cap by
kind of object (narinfos and manifests are small; only nar/ objects may be large), an
overall deadline per object however slowly the bytes drip in, and redirects followed
only within the same origin (scheme, host, port).
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn
from urllib.parse import urljoin, urlsplit

from zagi.core.errors import ReadOnly, Unavailable

if TYPE_CHECKING:
    import httpx

__all__ = ["DEADLINE", "MAX_META_BYTES", "MAX_NAR_BYTES", "Http"]

MAX_META_BYTES = 4 << 20  # narinfo, envs/*.json, nix-cache-info
MAX_NAR_BYTES = 64 << 30
MAX_REDIRECTS = 5
DEADLINE = 120.0  # seconds for one object, from the request to its last byte
READ_TIMEOUT = 30.0  # between two chunks


def _etag(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _origin(url: str) -> tuple[str, str, int | None]:
    u = urlsplit(url)
    return u.scheme, (u.hostname or "").lower(), u.port


def _deadline() -> float:
    """$ZAGI_HTTP_DEADLINE overrides the per-object deadline (seconds)."""
    try:
        return float(os.environ.get("ZAGI_HTTP_DEADLINE", DEADLINE))
    except ValueError:
        return DEADLINE


class Http:
    """Read-only: any cache served over HTTP (a LAN server, a CDN, a public bucket)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    def _http(self) -> httpx.Client:
        import httpx

        with self._lock:
            if self._client is None:
                self._client = httpx.Client(follow_redirects=False)
            return self._client

    def _fail(self, why: str) -> Unavailable:
        return Unavailable(f"{self.url}: {why}", url=self.url)

    def _open(self, key: str) -> tuple[httpx.Response, int, float] | None:
        """The response to GET key, its body unread, with the size cap and the deadline
        that bound reading it; None for a missing object."""
        import httpx

        limit = MAX_NAR_BYTES if key.startswith("nar/") else MAX_META_BYTES
        budget = _deadline()
        deadline = time.monotonic() + budget
        url = f"{self.url}/{key}"
        timeout = httpx.Timeout(min(READ_TIMEOUT, budget), connect=min(10.0, budget))
        client = self._http()
        try:
            for _ in range(MAX_REDIRECTS + 1):
                r = client.send(client.build_request("GET", url, timeout=timeout), stream=True)
                if r.is_redirect:
                    r.close()
                    target = urljoin(url, r.headers.get("location", ""))
                    if _origin(target) != _origin(self.url):
                        raise self._fail(f"{key}: redirected to another host ({target}); "
                                         "refusing to follow")
                    url = target
                    continue
                if r.status_code in (403, 404):  # Nix treats 403 as 404 too
                    r.close()
                    return None
                if r.status_code != 200:
                    r.close()
                    raise self._fail(f"{key}: HTTP {r.status_code}")
                declared = r.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > limit:
                    r.close()
                    raise self._fail(f"{key}: {declared} bytes is more than the {limit} allowed")
                return r, limit, deadline
        except httpx.HTTPError as exc:
            raise self._fail(f"{key}: {exc or type(exc).__name__}") from None
        raise self._fail(f"{key}: more than {MAX_REDIRECTS} redirects")

    def stream(self, key: str) -> Iterator[bytes] | None:
        opened = self._open(key)
        return None if opened is None else self._pieces(key, *opened)

    def _pieces(self, key: str, r: httpx.Response, limit: int,
                deadline: float) -> Iterator[bytes]:
        import httpx

        got = 0
        try:
            for chunk in r.iter_bytes():  # as it arrives: the deadline is checked per piece
                got += len(chunk)
                if got > limit:
                    raise self._fail(f"{key}: more than the {limit} bytes allowed")
                if time.monotonic() > deadline:
                    raise self._fail(f"{key}: not received within {_deadline():.0f} s")
                yield chunk
        except httpx.HTTPError as exc:
            raise self._fail(f"{key}: {exc or type(exc).__name__}") from None
        finally:
            r.close()

    def get(self, key: str) -> bytes | None:
        pieces = self.stream(key)
        return None if pieces is None else b"".join(pieces)

    def get_etag(self, key: str) -> tuple[bytes, str] | None:
        data = self.get(key)
        return None if data is None else (data, _etag(data))

    def exists(self, key: str) -> bool:
        return self.get(key) is not None

    def _ro(self) -> NoReturn:
        raise ReadOnly(f"{self.url}: http(s) caches are read-only; publish to file:// or s3://",
                       url=self.url)

    def put(self, key: str, data: bytes) -> None:
        self._ro()

    def put_file(self, key: str, path: Path) -> None:
        self._ro()

    def put_stream(self, key: str, chunks: Iterable[bytes]) -> None:
        self._ro()

    def put_if_absent(self, key: str, data: bytes) -> bool:
        self._ro()

    def put_if_match(self, key: str, data: bytes, etag: str) -> bool:
        self._ro()

    def delete(self, key: str) -> None:
        self._ro()

    def list(self, prefix: str) -> Iterator[str]:
        return iter(())
