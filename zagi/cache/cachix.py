"""A publish sink for servers speaking the Cachix push API (`zagi cache serve` is one).

NARs upload as multipart (presigned part URLs) in put_nar; put_narinfo completes the
upload with the signed narinfo fields, and the writer calls it only after the path's
references (zagi/cache/writer.py). The token comes from $ZAGI_CACHE_TOKEN (or
$CACHIX_AUTH_TOKEN).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from zagi.core.errors import BadInput, Unavailable
from zagi.formats import narinfo
from zagi.formats.narinfo import NarInfo

__all__ = ["CachixSink"]

PART = 8 << 20
TIMEOUT = 120


class CachixSink:
    def __init__(self, url: str) -> None:
        import httpx

        u = urlparse(url)
        name = u.path.strip("/")
        if u.scheme not in ("http", "https") or not name or "/" in name:
            raise BadInput(f"cachix+{url}: expected cachix+http(s)://HOST[:PORT]/CACHE-NAME")
        self.url = f"cachix+{url}"
        self.api = f"{u.scheme}://{u.netloc}/api/v1/cache/{name}"
        token = os.environ.get("ZAGI_CACHE_TOKEN") or os.environ.get("CACHIX_AUTH_TOKEN")
        self.client = httpx.Client(headers={"Authorization": f"Bearer {token}"} if token else {},
                                   timeout=TIMEOUT)
        # path -> (narId, uploadId, parts) between put_nar and put_narinfo
        self.pending: dict[str, tuple[str, str, list[dict[str, Any]]]] = {}
        self.lock = threading.Lock()

    def _call(self, method: str, path: str, **kw: Any) -> Any:
        import httpx

        try:
            r = self.client.request(method, path, **kw)
        except httpx.HTTPError as exc:
            raise Unavailable(f"{self.url}: {exc}", url=self.url) from None
        if r.status_code >= 400:
            raise Unavailable(f"{path}: HTTP {r.status_code}: {r.text.strip()[:200]}", url=self.url)
        return r.json() if r.content else None

    def missing(self, paths: list[str]) -> set[str]:
        by_hash = {narinfo.path_hash(p): p for p in paths}
        return {by_hash[h] for h in self._call("POST", f"{self.api}/narinfo", json=sorted(by_hash))
                if h in by_hash}

    def put_nar(self, path: str, file: Path, info: NarInfo) -> None:
        import httpx

        started = self._call("POST", f"{self.api}/multipart-nar", params={"compression": "zstd"})
        nar_id, upload_id = started["narId"], started["uploadId"]
        parts = []
        with file.open("rb") as fh:
            n = 1
            while chunk := fh.read(PART):
                target = self._call("POST", f"{self.api}/multipart-nar/{nar_id}",
                                    params={"uploadId": upload_id, "partNumber": n})
                try:
                    put = httpx.put(target["uploadUrl"], content=chunk, timeout=TIMEOUT)
                except httpx.HTTPError as exc:
                    raise Unavailable(f"uploading part {n} of {path}: {exc}", url=self.url) from None
                if put.status_code >= 400:
                    raise Unavailable(f"uploading part {n} of {path}: HTTP {put.status_code}",
                                      url=self.url)
                parts.append({"partNumber": n, "eTag": put.headers.get("ETag", "")})
                n += 1
        with self.lock:
            self.pending[path] = (nar_id, upload_id, parts)

    def put_narinfo(self, path: str, info: NarInfo) -> None:
        nar_id, upload_id, parts = self.pending.pop(path)
        base = narinfo.base_name(path)
        self._call("POST", f"{self.api}/multipart-nar/{nar_id}/complete",
                   params={"uploadId": upload_id},
                   json={"parts": parts, "narInfoCreate": {
                       "cStoreHash": base[:32], "cStoreSuffix": base[33:],
                       "cNarHash": info.nar_hash, "cNarSize": info.nar_size,
                       "cFileHash": (info.file_hash or "").removeprefix("sha256:"),
                       "cFileSize": info.file_size, "cReferences": info.references,
                       "cDeriver": info.deriver or "unknown-deriver",
                       "cSig": info.sigs[0] if info.sigs else None}})

    def put_manifest(self, env_id: str, data: bytes) -> None:
        self._call("PUT", f"{self.api}/zagi/{narinfo.manifest_key(env_id)}", content=data)

    def finish(self) -> None:
        self.client.close()
