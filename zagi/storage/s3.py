"""s3://BUCKET[/PREFIX]?endpoint=...&region=...&profile=... — any S3 API (AWS, R2, MinIO,
moto). boto3 and botocore exceptions are mapped here, once, to zagi's StorageError family."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from zagi.core.errors import Conflict, NotFound, StorageError, Unavailable

__all__ = ["S3"]

_MISSING = ("NoSuchKey", "404", "NotFound")
_PRECONDITION = ("PreconditionFailed", "412", "ConditionalRequestConflict")


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
