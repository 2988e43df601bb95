"""http(s):// — a cache read over HTTP (a LAN server, a CDN, a public bucket). Read-only."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

from zagi.core.errors import ReadOnly, Unavailable

__all__ = ["Http"]


def _etag(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


class Http:
    """Read-only: any cache served over HTTP (a LAN server, a CDN, a public bucket)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def get(self, key: str) -> bytes | None:
        import httpx

        try:
            r = httpx.get(f"{self.url}/{key}", timeout=30, follow_redirects=True)
        except httpx.HTTPError as exc:
            raise Unavailable(f"{self.url}: {exc}", url=self.url) from None
        if r.status_code in (403, 404):  # Nix treats 403 as 404 too
            return None
        if r.status_code != 200:
            raise Unavailable(f"{self.url}/{key}: HTTP {r.status_code}", url=self.url)
        return r.content

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

    def put_if_absent(self, key: str, data: bytes) -> bool:
        self._ro()

    def put_if_match(self, key: str, data: bytes, etag: str) -> bool:
        self._ro()

    def list(self, prefix: str) -> Iterator[str]:
        return iter(())
