"""Object storage: one small interface, opened by URL scheme.

  file:///path                                   zagi/storage/file.py   (the embedded default)
  s3://BUCKET[/PREFIX]?endpoint=&region=&profile= zagi/storage/s3.py     (AWS, R2, MinIO, moto)
  http(s)://...                                  zagi/storage/http.py   (read-only)
  memory://NAME                                  zagi/storage/memory.py (tests of cache logic)

URLs follow Nix's conventions. Mutable objects are only ever written with
put_if_absent / put_if_match, so two writers never lose an update: both return False
when the condition fails (the caller decides what a lost race means; raise
zagi.core.errors.Conflict to report one). Every backend maps its library's exceptions
to zagi.core.errors' StorageError family (NotFound, Conflict, ReadOnly, Unavailable)
at its edge, so nothing above sees a boto3 or httpx exception.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, urlparse

from zagi.core.errors import BadInput

__all__ = ["Readable", "Storage", "open_url"]


class Readable(Protocol):
    url: str

    def get(self, key: str) -> bytes | None:
        """The object's bytes, or None when it does not exist."""

    def get_etag(self, key: str) -> tuple[bytes, str] | None:
        """The object and the ETag a later put_if_match must name."""

    def stream(self, key: str) -> Iterator[bytes] | None:
        """The object's bytes in pieces of about a MiB, or None when it does not exist
        (decided before the first piece): a large NAR never sits in memory whole."""

    def exists(self, key: str) -> bool: ...

    def list(self, prefix: str) -> Iterator[str]: ...


class Storage(Readable, Protocol):
    def put(self, key: str, data: bytes) -> None:
        """Write an immutable (content-addressed) object; last writer wins."""

    def put_file(self, key: str, path: Path) -> None:
        """put() from a file, streamed (large NARs never sit in memory whole)."""

    def put_stream(self, key: str, chunks: Iterable[bytes]) -> None:
        """put() from pieces, written as they come. The object appears only once the
        iterable is exhausted: if it raises, nothing is visible and the error propagates
        (the writer checks a NAR's hash at its end, before it can be seen)."""

    def put_if_absent(self, key: str, data: bytes) -> bool:
        """Create the object only if it does not exist; False if it did."""

    def put_if_match(self, key: str, data: bytes, etag: str) -> bool:
        """Replace the object only if it still has `etag`; False if it changed."""

    def delete(self, key: str) -> None:
        """Remove an object (absent is fine). Only garbage collection deletes, after a
        grace period, and never an object a current pointer names."""


def open_url(url: str) -> Storage:
    u = urlparse(url)
    if u.scheme == "file":
        from zagi.storage.file import LocalDir

        return LocalDir(Path(u.path), url)
    if u.scheme == "s3":
        from zagi.storage.s3 import S3

        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        return S3(u.netloc, u.path.strip("/"), q.get("endpoint"), q.get("region"),
                  q.get("profile"), url)
    if u.scheme in ("http", "https"):
        from zagi.storage.http import Http

        return Http(url.rstrip("/"))
    if u.scheme == "memory":
        from zagi.storage.memory import Memory

        return Memory.named(u.netloc, url)
    raise BadInput(f"{url}: expected file:///path, s3://bucket[/prefix]?endpoint=... or http(s)://")
