"""file:///path — a directory as object storage: atomic writes by rename, create-if-absent
by link(2), compare-and-swap under flock(2). The embedded default (the local cache)."""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from zagi.core.errors import BadInput, Unavailable

__all__ = ["CHUNK", "LocalDir"]

CHUNK = 1 << 20


def _etag(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


class LocalDir:
    """A directory; atomic writes by rename, put_if_absent by link(2), CAS under flock."""

    def __init__(self, root: Path, url: str) -> None:
        self.root, self.url = root, url

    def _path(self, key: str) -> Path:
        p = (self.root / key).resolve()
        if self.root.resolve() not in p.parents:
            raise BadInput(f"{key!r}: not a key inside the cache")
        return p

    def _failed(self, key: str, exc: OSError) -> Unavailable:
        return Unavailable(f"{self.url}: {key}: {exc.strerror or exc}", url=self.url,
                           hint="check that the directory exists and is writable")

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None  # a directory is not an object
        except OSError as exc:
            raise self._failed(key, exc) from None

    def get_etag(self, key: str) -> tuple[bytes, str] | None:
        data = self.get(key)
        return None if data is None else (data, _etag(data))

    def stream(self, key: str) -> Iterator[bytes] | None:
        try:
            fh = self._path(key).open("rb")
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None
        except OSError as exc:
            raise self._failed(key, exc) from None

        def pieces() -> Iterator[bytes]:
            with fh:
                while chunk := fh.read(CHUNK):
                    yield chunk
        return pieces()

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def _temp(self, target: Path, data: bytes | None, src: Path | None = None) -> str:
        try:
            return self._write_temp(target, data, src)
        except OSError as exc:
            raise self._failed(str(target.relative_to(self.root.resolve())), exc) from None

    def _write_temp(self, target: Path, data: bytes | None, src: Path | None,
                    chunks: Iterable[bytes] = ()) -> str:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                if src is not None:
                    with src.open("rb") as s:
                        while chunk := s.read(CHUNK):
                            fh.write(chunk)
                else:
                    fh.write(data or b"")
                for chunk in chunks:
                    fh.write(chunk)
                fh.flush()
                os.fsync(fh.fileno())
        except BaseException:
            os.unlink(tmp)  # a failed or interrupted write leaves nothing behind
            raise
        os.chmod(tmp, 0o644)
        return tmp

    def put(self, key: str, data: bytes) -> None:
        target = self._path(key)
        os.replace(self._temp(target, data), target)

    def put_file(self, key: str, path: Path) -> None:
        target = self._path(key)
        os.replace(self._temp(target, None, path), target)

    def put_stream(self, key: str, chunks: Iterable[bytes]) -> None:
        target = self._path(key)
        try:
            tmp = self._write_temp(target, None, None, chunks)
        except OSError as exc:
            raise self._failed(key, exc) from None
        os.replace(tmp, target)

    def put_if_absent(self, key: str, data: bytes) -> bool:
        target = self._path(key)
        tmp = self._temp(target, data)
        try:
            os.link(tmp, target)  # fails if the key exists: atomic create-if-absent
            return True
        except FileExistsError:
            return False
        finally:
            os.unlink(tmp)

    def put_if_match(self, key: str, data: bytes, etag: str) -> bool:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        with (target.parent / f".{target.name}.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            current = self.get_etag(key)
            if current is None or current[1] != etag:
                return False
            self.put(key, data)
            return True

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink(missing_ok=True)
        except OSError as exc:
            raise self._failed(key, exc) from None

    def list(self, prefix: str) -> Iterator[str]:
        base = self.root / prefix
        if not base.is_dir():
            return
        for p in sorted(base.rglob("*")):
            if p.is_file() and not p.name.startswith("."):
                yield str(p.relative_to(self.root))
