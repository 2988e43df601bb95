"""s3://BUCKET[/PREFIX]?endpoint=...&region=...&profile=... — any S3 API (AWS, R2, MinIO,
moto). boto3 and botocore exceptions are mapped here, once, to zagi's StorageError family."""

from __future__ import annotations

import contextlib
import io
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from zagi.core.errors import Conflict, NotFound, StorageError, Unavailable

__all__ = ["S3"]

_MISSING = ("NoSuchKey", "404", "NotFound")
_PRECONDITION = ("PreconditionFailed", "412", "ConditionalRequestConflict")
PART = 8 << 20  # multipart part and ranged-read size: S3's sweet spot, 8 MiB
IN_FLIGHT = 8  # parts moving at once per client, uploads and ranged reads alike
RANGED = 64 << 20  # objects this large are read in parallel ranges


class S3:
    """Any S3 API (AWS, R2, MinIO, moto): standard retries with backoff and jitter,
    multipart above 8 MiB, conditional writes with If-None-Match / If-Match."""

    def __init__(self, bucket: str, prefix: str, endpoint: str | None, region: str | None,
                 profile: str | None, url: str) -> None:
        import boto3
        from botocore import UNSIGNED
        from botocore.config import Config

        self.bucket, self.prefix, self.url = bucket, prefix, url
        session = boto3.Session(profile_name=profile) if profile else boto3.Session()
        # No credentials anywhere in the AWS chain: read anonymously (a public bucket
        # serves its repositories and caches to anyone); writes are then refused by S3.
        anonymous = {} if session.get_credentials() is not None else {"signature_version": UNSIGNED}
        self.client: Any = session.client(
            "s3", endpoint_url=endpoint, region_name=region or "us-east-1",
            config=Config(retries={"max_attempts": 8, "mode": "standard"},
                          max_pool_connections=32,
                          s3={"addressing_style": "path" if endpoint else "auto"}, **anonymous))
        self._executor: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(IN_FLIGHT)

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def _error(self, exc: Exception) -> StorageError:
        """boto3's exception as zagi's, by meaning (the one place this mapping lives)."""
        from boto3.exceptions import S3UploadFailedError
        from botocore.exceptions import ClientError

        if isinstance(exc, S3UploadFailedError) and isinstance(exc.__context__, ClientError):
            exc = exc.__context__  # upload_file wraps the ClientError that says why
        if isinstance(exc, ClientError):
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in _PRECONDITION:
                return Conflict(f"{self.url}: someone else wrote it first", url=self.url)
            if code == "NoSuchBucket":
                return NotFound(f"{self.url}: bucket {self.bucket!r} does not exist", url=self.url,
                                hint="create it, or check the URL's bucket and endpoint")
            return Unavailable(f"{self.url}: S3 {code or 'error'}: {exc}", url=self.url)
        return Unavailable(f"{self.url}: {exc}", url=self.url)

    def _call(self, fn: Any, **kw: Any) -> Any:
        from boto3.exceptions import Boto3Error
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return fn(Bucket=self.bucket, **kw)
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code", "")) in _MISSING:
                return None
            raise self._error(exc) from None
        except (BotoCoreError, Boto3Error) as exc:
            raise self._error(exc) from None

    def get(self, key: str) -> bytes | None:
        got = self.get_etag(key)
        return None if got is None else got[0]

    def get_etag(self, key: str) -> tuple[bytes, str] | None:
        r = self._call(self.client.get_object, Key=self._key(key))
        return None if r is None else (r["Body"].read(), r["ETag"])

    def _pool(self) -> ThreadPoolExecutor:
        """One pool per client for parts and ranges: the memory they hold is bounded by
        IN_FLIGHT * PART whatever number of objects move at once."""
        with self._pool_lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(IN_FLIGHT, thread_name_prefix="zagi-s3")
            return self._executor

    def _range(self, key: str, start: int, end: int) -> bytes:
        r = self._call(self.client.get_object, Key=self._key(key), Range=f"bytes={start}-{end}")
        if r is None:
            raise Unavailable(f"{self.url}: {key} disappeared while being read", url=self.url)
        data: bytes = r["Body"].read()
        if len(data) != end - start + 1:
            raise Unavailable(f"{self.url}: {key}: a range came back short", url=self.url)
        return data

    def stream(self, key: str) -> Iterator[bytes] | None:
        """One GET, streamed; for objects of RANGED bytes or more, the rest after the
        first PART as ranged GETs, IN_FLIGHT // 2 at once, handed on in order (one
        connection's throughput caps a large object; on moto, ranges cost 3x a plain
        stream, so small objects never pay for them)."""
        r = self._call(self.client.get_object, Key=self._key(key))
        if r is None:
            return None
        total, body = int(r["ContentLength"]), r["Body"]
        if total < RANGED:
            return self._body(key, body)
        first = body.read(PART)
        body.close()
        return self._pieces(key, first, total)

    def _body(self, key: str, body: Any) -> Iterator[bytes]:
        from botocore.exceptions import BotoCoreError

        try:
            yield from body.iter_chunks(1 << 20)
        except (BotoCoreError, OSError) as exc:
            raise self._error(exc) from None
        finally:
            body.close()

    def _pieces(self, key: str, first: bytes, total: int) -> Iterator[bytes]:
        yield from (first[i:i + (1 << 20)] for i in range(0, len(first), 1 << 20))
        pending: deque[Future[bytes]] = deque()
        starts = iter(range(len(first), total, PART))
        try:
            while True:
                while len(pending) < IN_FLIGHT // 2 and (start := next(starts, None)) is not None:
                    end = min(start + PART, total) - 1
                    pending.append(self._pool().submit(self._range, key, start, end))
                if not pending:
                    return
                data = pending.popleft().result()
                yield from (data[i:i + (1 << 20)] for i in range(0, len(data), 1 << 20))
        finally:
            for f in pending:
                f.cancel()

    def exists(self, key: str) -> bool:
        return self._call(self.client.head_object, Key=self._key(key)) is not None

    def put(self, key: str, data: bytes) -> None:
        self._call(self.client.put_object, Key=self._key(key), Body=data)

    def put_file(self, key: str, path: Path) -> None:
        from boto3.s3.transfer import TransferConfig

        cfg = TransferConfig(multipart_threshold=8 << 20, multipart_chunksize=8 << 20,
                             max_concurrency=4)
        from boto3.exceptions import Boto3Error
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.upload_file(str(path), self.bucket, self._key(key), Config=cfg)
        except (Boto3Error, BotoCoreError, ClientError) as exc:
            raise self._error(exc) from None

    def put_stream(self, key: str, chunks: Iterable[bytes]) -> None:
        """One PUT for a small object; else a multipart upload whose parts go up while
        the next ones are produced (compression and upload overlap), completed only
        after the last piece, aborted on any error: S3 shows nothing half-written."""
        buf = bytearray()
        upload: str | None = None
        parts: list[Future[dict[str, Any]]] = []
        try:
            for chunk in chunks:
                buf += chunk
                if len(buf) >= PART:
                    if upload is None:
                        upload = self._call(self.client.create_multipart_upload,
                                            Key=self._key(key))["UploadId"]
                    parts.append(self._submit_part(key, upload, len(parts) + 1, bytes(buf)))
                    buf.clear()
                    self._settle(parts)
            if upload is None:
                self.put(key, bytes(buf))
                return
            if buf or not parts:
                parts.append(self._submit_part(key, upload, len(parts) + 1, bytes(buf)))
            done = [f.result() for f in parts]
            self._call(self.client.complete_multipart_upload, Key=self._key(key),
                       UploadId=upload, MultipartUpload={"Parts": done})
        except BaseException:
            for f in parts:  # let the parts in flight end (not cancel: each holds a slot)
                f.exception()
            if upload is not None:
                with contextlib.suppress(Exception):  # the first error is the one to report
                    self.client.abort_multipart_upload(Bucket=self.bucket, Key=self._key(key),
                                                       UploadId=upload)
            raise

    def _submit_part(self, key: str, upload: str, n: int, data: bytes) -> Future[dict[str, Any]]:
        self._slots.acquire()  # bounded memory: wait while IN_FLIGHT parts are moving

        def send() -> dict[str, Any]:
            try:
                # A file-like body: botocore's bytes path made the upload 1.6x slower
                # than boto3's own upload_file (bench/cache.py, moto).
                r = self._call(self.client.upload_part, Key=self._key(key), UploadId=upload,
                               PartNumber=n, Body=io.BytesIO(data))
                return {"PartNumber": n, "ETag": r["ETag"]}
            finally:
                self._slots.release()
        return self._pool().submit(send)

    @staticmethod
    def _settle(parts: list[Future[dict[str, Any]]]) -> None:
        """Raise at once when a part already failed (not only at the end)."""
        for f in parts:
            if f.done() and f.exception() is not None:
                f.result()

    def put_if_absent(self, key: str, data: bytes) -> bool:
        try:
            self._call(self.client.put_object, Key=self._key(key), Body=data, IfNoneMatch="*")
            return True
        except Conflict:
            return False

    def put_if_match(self, key: str, data: bytes, etag: str) -> bool:
        try:
            self._call(self.client.put_object, Key=self._key(key), Body=data, IfMatch=etag)
            return True
        except Conflict:
            return False

    def delete(self, key: str) -> None:
        self._call(self.client.delete_object, Key=self._key(key))

    def list(self, prefix: str) -> Iterator[str]:
        from botocore.exceptions import BotoCoreError, ClientError

        pager = self.client.get_paginator("list_objects_v2")
        start = len(self.prefix) + 1 if self.prefix else 0
        try:
            for page in pager.paginate(Bucket=self.bucket, Prefix=self._key(prefix)):
                for obj in page.get("Contents", []):
                    yield obj["Key"][start:]
        except (BotoCoreError, ClientError) as exc:
            raise self._error(exc) from None
