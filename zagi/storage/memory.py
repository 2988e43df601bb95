"""memory://NAME — object storage in this process's memory, with the same semantics as
the real backends (conditional writes, ETags, prefix listing). For fast unit tests of
logic above storage; integration tests use file:// and a real S3 server."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import ClassVar

__all__ = ["Memory"]


class Memory:
    _named: ClassVar[dict[str, Memory]] = {}
    _named_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, url: str = "memory://") -> None:
        self.url = url
        self.objects: dict[str, bytes] = {}
        self._lock = threading.Lock()

    @classmethod
    def named(cls, name: str, url: str) -> Memory:
        """The same store for the same name within a process (as a bucket would be)."""
        with cls._named_lock:
            return cls._named.setdefault(name, cls(url))

    @staticmethod
    def _etag(data: bytes) -> str:
        return hashlib.md5(data, usedforsecurity=False).hexdigest()

    def get(self, key: str) -> bytes | None:
        return self.objects.get(key)

    def get_etag(self, key: str) -> tuple[bytes, str] | None:
        data = self.objects.get(key)
        return None if data is None else (data, self._etag(data))

    def stream(self, key: str) -> Iterator[bytes] | None:
        data = self.objects.get(key)
        if data is None:
            return None
        return iter([data[i:i + (1 << 20)] for i in range(0, len(data), 1 << 20)] or [b""])

    def exists(self, key: str) -> bool:
        return key in self.objects

    def put(self, key: str, data: bytes) -> None:
        with self._lock:
            self.objects[key] = bytes(data)

    def put_file(self, key: str, path: Path) -> None:
        self.put(key, path.read_bytes())

    def put_stream(self, key: str, chunks: Iterable[bytes]) -> None:
        data = b"".join(chunks)  # all of it first: a failing iterable leaves nothing
        self.put(key, data)

    def put_if_absent(self, key: str, data: bytes) -> bool:
        with self._lock:
            if key in self.objects:
                return False
            self.objects[key] = bytes(data)
            return True

    def put_if_match(self, key: str, data: bytes, etag: str) -> bool:
        with self._lock:
            current = self.objects.get(key)
            if current is None or self._etag(current) != etag:
                return False
            self.objects[key] = bytes(data)
            return True

    def delete(self, key: str) -> None:
        with self._lock:
            self.objects.pop(key, None)

    def list(self, prefix: str) -> Iterator[str]:
        with self._lock:
            keys = sorted(k for k in self.objects if k.startswith(prefix))
        yield from keys
