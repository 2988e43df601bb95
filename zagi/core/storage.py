"""Object storage for binary caches: one small interface, two backends (+ read-only HTTP).

URLs follow Nix's conventions: file:///path, s3://BUCKET[/PREFIX]?endpoint=...&region=...
&profile=..., http(s)://... (read-only). Mutable objects are only ever written with
put_if_absent / put_if_match, so two writers never lose an update.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlparse

from zagi.core.errors import BadInput, ZagiError


class Storage(Protocol):
    url: str

    def get(self, key: str) -> bytes | None: ...
    def get_etag(self, key: str) -> tuple[bytes, str] | None: ...
    def exists(self, key: str) -> bool: ...
    def put(self, key: str, data: bytes) -> None: ...
    def put_file(self, key: str, path: Path) -> None: ...
    def put_if_absent(self, key: str, data: bytes) -> bool: ...
    def put_if_match(self, key: str, data: bytes, etag: str) -> bool: ...
    def list(self, prefix: str) -> Iterator[str]: ...


def open_url(url: str) -> Storage:
    u = urlparse(url)
    if u.scheme == "file":
        return LocalDir(Path(u.path), url)
    if u.scheme == "s3":
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        return S3(u.netloc, u.path.strip("/"), q.get("endpoint"), q.get("region"),
                  q.get("profile"), url)
    if u.scheme in ("http", "https"):
        return Http(url.rstrip("/"))
    raise BadInput(f"{url}: expected file:///path, s3://bucket[/prefix]?endpoint=... or http(s)://")


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

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None

    def get_etag(self, key: str) -> tuple[bytes, str] | None:
        data = self.get(key)
        return None if data is None else (data, _etag(data))

    def exists(self, key: str) -> bool:
        return self._path(key).exists()

    def _temp(self, target: Path, data: bytes | None, src: Path | None = None) -> str:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as fh:
            if src is not None:
                with src.open("rb") as s:
                    while chunk := s.read(1 << 20):
                        fh.write(chunk)
            else:
                fh.write(data or b"")
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        return tmp

    def put(self, key: str, data: bytes) -> None:
        target = self._path(key)
        os.replace(self._temp(target, data), target)

    def put_file(self, key: str, path: Path) -> None:
        target = self._path(key)
        os.replace(self._temp(target, None, path), target)

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

    def list(self, prefix: str) -> Iterator[str]:
        base = self.root / prefix
        if not base.is_dir():
            return
        for p in sorted(base.rglob("*")):
            if p.is_file() and not p.name.startswith("."):
                yield str(p.relative_to(self.root))


class S3:
    """Any S3 API (AWS, R2, MinIO, moto): standard retries with backoff and jitter,
    multipart above 8 MiB, conditional writes with If-None-Match / If-Match."""

    def __init__(self, bucket: str, prefix: str, endpoint: str | None, region: str | None,
                 profile: str | None, url: str) -> None:
        import boto3
        from botocore.config import Config

        self.bucket, self.prefix, self.url = bucket, prefix, url
        session = boto3.Session(profile_name=profile) if profile else boto3.Session()
        self.client: Any = session.client(
            "s3", endpoint_url=endpoint, region_name=region or "us-east-1",
            config=Config(retries={"max_attempts": 8, "mode": "standard"},
                          max_pool_connections=32,
                          s3={"addressing_style": "path" if endpoint else "auto"}))

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def _call(self, fn: Any, **kw: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return fn(Bucket=self.bucket, **kw)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("NoSuchKey", "404", "NotFound"):
                return None
            if code in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
                raise _Precondition from None
            raise ZagiError(f"{self.url}: S3 {code or 'error'}: {exc}") from None
        except BotoCoreError as exc:
            raise ZagiError(f"{self.url}: {exc}") from None

    def get(self, key: str) -> bytes | None:
        got = self.get_etag(key)
        return None if got is None else got[0]

    def get_etag(self, key: str) -> tuple[bytes, str] | None:
        r = self._call(self.client.get_object, Key=self._key(key))
        return None if r is None else (r["Body"].read(), r["ETag"])

    def exists(self, key: str) -> bool:
        return self._call(self.client.head_object, Key=self._key(key)) is not None

    def put(self, key: str, data: bytes) -> None:
        self._call(self.client.put_object, Key=self._key(key), Body=data)

    def put_file(self, key: str, path: Path) -> None:
        from boto3.s3.transfer import TransferConfig

        cfg = TransferConfig(multipart_threshold=8 << 20, multipart_chunksize=8 << 20,
                             max_concurrency=4)
        with contextlib.suppress(_Precondition):
            self.client.upload_file(str(path), self.bucket, self._key(key), Config=cfg)

    def put_if_absent(self, key: str, data: bytes) -> bool:
        try:
            self._call(self.client.put_object, Key=self._key(key), Body=data, IfNoneMatch="*")
            return True
        except _Precondition:
            return False

    def put_if_match(self, key: str, data: bytes, etag: str) -> bool:
        try:
            self._call(self.client.put_object, Key=self._key(key), Body=data, IfMatch=etag)
            return True
        except _Precondition:
            return False

    def list(self, prefix: str) -> Iterator[str]:
        pager = self.client.get_paginator("list_objects_v2")
        start = len(self.prefix) + 1 if self.prefix else 0
        for page in pager.paginate(Bucket=self.bucket, Prefix=self._key(prefix)):
            for obj in page.get("Contents", []):
                yield obj["Key"][start:]


class _Precondition(Exception):
    pass


class Http:
    """Read-only: any cache served over HTTP (a LAN server, a CDN, a public bucket)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def get(self, key: str) -> bytes | None:
        import httpx

        try:
            r = httpx.get(f"{self.url}/{key}", timeout=30, follow_redirects=True)
        except httpx.HTTPError as exc:
            raise ZagiError(f"{self.url}: {exc}") from None
        if r.status_code in (403, 404):  # Nix treats 403 as 404 too
            return None
        if r.status_code != 200:
            raise ZagiError(f"{self.url}/{key}: HTTP {r.status_code}")
        return r.content

    def get_etag(self, key: str) -> tuple[bytes, str] | None:
        data = self.get(key)
        return None if data is None else (data, _etag(data))

    def exists(self, key: str) -> bool:
        return self.get(key) is not None

    def _ro(self, *_: object) -> Any:
        raise BadInput(f"{self.url}: http(s) caches are read-only; publish to file:// or s3://")

    put = put_file = put_if_absent = put_if_match = _ro

    def list(self, prefix: str) -> Iterator[str]:
        return iter(())
