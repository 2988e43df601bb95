"""A publish sink for servers speaking the Cachix push API (`zagi cache serve` is one).

NARs upload as multipart (presigned part URLs) in put_nar; put_narinfo completes the
upload with the signed narinfo fields, and the writer calls it only after the path's
references (zagi/cache/writer.py). The token comes from $ZAGI_CACHE_TOKEN (or
$CACHIX_AUTH_TOKEN).
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlparse

from zagi.core.errors import BadInput, Unavailable
from zagi.formats import nar, narinfo
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

    def put_nar(self, path: str, chunks: Iterable[bytes], info: NarInfo) -> None:
        """Upload in PART-sized parts as the compressed NAR comes; the push API wants
        the compressed bytes' hash and size at completion, so they are taken here."""
        started = self._call("POST", f"{self.api}/multipart-nar", params={"compression": "zstd"})
        nar_id, upload_id = started["narId"], started["uploadId"]
        parts: list[dict[str, Any]] = []
        h, size, buf = hashlib.sha256(), 0, bytearray()

        def send(data: bytes) -> None:
            n = len(parts) + 1
            target = self._call("POST", f"{self.api}/multipart-nar/{nar_id}",
                                params={"uploadId": upload_id, "partNumber": n})
            try:
                # not self.client: the token must not go to wherever the URL points
                put = httpx.put(target["uploadUrl"], content=data, timeout=TIMEOUT)
            except httpx.HTTPError as exc:
                raise Unavailable(f"uploading part {n} of {path}: {exc}", url=self.url) from None
            if put.status_code >= 400:
                raise Unavailable(f"uploading part {n} of {path}: HTTP {put.status_code}",
                                  url=self.url)
            parts.append({"partNumber": n, "eTag": put.headers.get("ETag", "")})

        import httpx

        for chunk in chunks:
            h.update(chunk)
            size += len(chunk)
            buf += chunk
            if len(buf) >= PART:
                send(bytes(buf))
                buf.clear()
        if buf or not parts:
            send(bytes(buf))
        info.file_hash, info.file_size = "sha256:" + nar.nix32(h.digest()), size
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
