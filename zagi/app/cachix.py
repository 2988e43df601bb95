"""Pushing to a server that speaks the Cachix push API (zagi cache serve is one).

Same guarantees as publish to storage: NARs upload in parallel (multipart, presigned
part URLs), then each path is completed only after its references, then the env
manifest. The token comes from $ZAGI_CACHE_TOKEN (or $CACHIX_AUTH_TOKEN).
"""

from __future__ import annotations

import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from zagi.app.project import Project
from zagi.app.publish import (
    UPLOADERS,
    PublishResult,
    _compress,
    _manifest,
    _prepare,
    _topological,
)
from zagi.core import nar, nix
from zagi.core.errors import BadInput, ZagiError

PART = 8 << 20


def push(project: Project, url: str, key: nar.SecretKey) -> PublishResult:
    import httpx

    t0 = time.perf_counter()
    u = urlparse(url)
    name = u.path.strip("/")
    if u.scheme not in ("http", "https") or not name or "/" in name:
        raise BadInput(f"cachix+{url}: expected cachix+http(s)://HOST[:PORT]/CACHE-NAME")
    api = f"{u.scheme}://{u.netloc}/api/v1/cache/{name}"
    token = os.environ.get("ZAGI_CACHE_TOKEN") or os.environ.get("CACHIX_AUTH_TOKEN")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    lk, system, out, closure = _prepare(project)
    res = PublishResult(f"cachix+{url}", lk.env_id)
    with httpx.Client(headers=headers, timeout=120) as client:

        def call(method: str, path: str, **kw: Any) -> Any:
            r = client.request(method, path, **kw)
            if r.status_code >= 400:
                raise ZagiError(f"{path}: HTTP {r.status_code}: {r.text.strip()[:200]}")
            return r.json() if r.content else None

        hashes = {p.removeprefix("/nix/store/")[:32]: p for p in closure}
        missing_hashes = set(call("POST", f"{api}/narinfo", json=sorted(hashes)))
        missing = sorted((p for h, p in hashes.items() if h in missing_hashes),
                         key=lambda p: -closure[p]["narSize"])
        res.skipped = len(closure) - len(missing)
        refs = nix.references(missing)
        uploaded: dict[str, tuple[nar.NarInfo, str, list[dict[str, Any]]]] = {}
        with tempfile.TemporaryDirectory(prefix="zagi-push-") as tmpd:

            def upload(p: str) -> None:
                f, info = _compress(p, closure[p], Path(tmpd))
                started = call("POST", f"{api}/multipart-nar", params={"compression": "zstd"})
                nar_id, upload_id = started["narId"], started["uploadId"]
                parts = []
                with f.open("rb") as fh:
                    n = 1
                    while chunk := fh.read(PART):
                        target = call("POST", f"{api}/multipart-nar/{nar_id}",
                                      params={"uploadId": upload_id, "partNumber": n})
                        put = httpx.put(target["uploadUrl"], content=chunk, timeout=120)
                        if put.status_code >= 400:
                            raise ZagiError(f"uploading part {n} of {p}: HTTP {put.status_code}")
                        parts.append({"partNumber": n, "eTag": put.headers.get("ETag", "")})
                        n += 1
                f.unlink()
                uploaded[p] = (info, f"{nar_id}?uploadId={upload_id}", parts)
                res.bytes += info.file_size or 0

            with ThreadPoolExecutor(UPLOADERS) as pool:
                list(pool.map(upload, missing))
        for p in _topological(missing, refs):  # complete a path only after its references
            info, ident, parts = uploaded[p]
            nar_id, _, qs = ident.partition("?uploadId=")
            info.references = [r.removeprefix("/nix/store/") for r in refs[p]]
            deriver = nix.deriver(p)
            info.deriver = deriver.removeprefix("/nix/store/") if deriver else None
            base = p.removeprefix("/nix/store/")
            call("POST", f"{api}/multipart-nar/{nar_id}/complete", params={"uploadId": qs},
                 json={"parts": parts, "narInfoCreate": {
                     "cStoreHash": base[:32], "cStoreSuffix": base[33:],
                     "cNarHash": info.nar_hash, "cNarSize": info.nar_size,
                     "cFileHash": (info.file_hash or "").removeprefix("sha256:"),
                     "cFileSize": info.file_size, "cReferences": info.references,
                     "cDeriver": info.deriver or "unknown-deriver",
                     "cSig": key.sign(info.fingerprint())}})
            res.uploaded.append(p)
        call("PUT", f"{api}/zagi/envs/{lk.env_id}.json",
             content=_manifest(lk, system, out, closure, key))
    res.seconds = time.perf_counter() - t0
    return res
