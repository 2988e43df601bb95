"""`zagi cache serve`: a cache over HTTP for a LAN, and a Cachix-compatible push endpoint.

Reads: GET /<key> serves any object of the backing cache (file:// or s3://), so Nix
substituters and `zagi clone` can use http://host:port/ directly.

Writes speak the Cachix push API (Bearer token), over the same storage backend:
  POST /api/v1/cache/{name}/narinfo                         [hashes] -> the missing ones
  POST /api/v1/cache/{name}/multipart-nar?compression=zstd  -> {narId, uploadId}
  POST /api/v1/cache/{name}/multipart-nar/{narId}?uploadId=&partNumber=  -> {uploadUrl}
  PUT  {uploadUrl}                                          part bytes -> ETag
  POST /api/v1/cache/{name}/multipart-nar/{narId}/complete?uploadId=
       {parts: [{partNumber, eTag}], narInfoCreate: {cStoreHash, cStoreSuffix, cNarHash,
        cNarSize, cFileHash, cFileSize, cReferences, cDeriver, cSig}}
plus one zagi extension, PUT /api/v1/cache/{name}/zagi/envs/{env-id}.json (the manifest).
The server keeps the cache consistent as publish does: complete checks the FileHash of
the assembled NAR, refuses a narinfo whose references are not there yet, and never
replaces a narinfo with a different NarHash.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from zagi.cache import rules
from zagi.core.errors import Conflict
from zagi.formats import nar, narinfo
from zagi.formats.narinfo import NarInfo
from zagi.storage import Storage

__all__ = ["CacheServer"]

_HASH = re.compile(r"^[0-9a-z]{32}$")


class CacheServer:
    def __init__(self, storage: Storage, name: str, token: str | None, host: str, port: int) -> None:
        self.storage, self.name, self.token = storage, name, token
        self.key = secrets.token_bytes(32)  # signs the upload URLs this server hands out
        self.parts: dict[tuple[str, int], bytes] = {}
        self.uploads: dict[str, str] = {}  # narId -> uploadId
        self.lock = threading.Lock()
        handler = type("Handler", (_Handler,), {"server_state": self})
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.url = f"http://{host}:{self.httpd.server_address[1]}"
        if not storage.exists(narinfo.CACHE_INFO_KEY):
            storage.put_if_absent(narinfo.CACHE_INFO_KEY, narinfo.CACHE_INFO)

    def sign(self, nar_id: str, part: int) -> str:
        return hmac.new(self.key, f"{nar_id}/{part}".encode(), "sha256").hexdigest()

    def serve_forever(self) -> None:
        self.httpd.serve_forever()

    def start(self) -> threading.Thread:
        t = threading.Thread(target=self.serve_forever, daemon=True)
        t.start()
        return t

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _Handler(BaseHTTPRequestHandler):
    server_state: CacheServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    # --- plumbing ------------------------------------------------------------

    def _send(self, code: int, body: bytes = b"", ctype: str = "application/json",
              headers: dict[str, str] | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, code: int, data: Any) -> None:
        self._send(code, json.dumps(data).encode())

    def _body(self) -> bytes:
        n = int(self.headers.get("Content-Length", "0"))
        return self.rfile.read(n) if n else b""

    def _authorized(self) -> bool:
        token = self.server_state.token
        if token is None:
            return True
        got = self.headers.get("Authorization", "")
        if hmac.compare_digest(got.encode(), f"Bearer {token}".encode()):
            return True
        self._json(401, {"error": "missing or wrong bearer token"})
        return False

    # --- reads -----------------------------------------------------------------

    def do_GET(self) -> None:
        key = urlparse(self.path).path.lstrip("/")
        data = self.server_state.storage.get(key) if key and ".." not in key else None
        if data is None:
            self._send(404, b"not found\n", "text/plain")
            return
        ctype = "text/x-nix-narinfo" if key.endswith(".narinfo") else "application/octet-stream"
        self._send(200, data, ctype)

    do_HEAD = do_GET

    # --- writes (Cachix push API) ------------------------------------------------

    def do_POST(self) -> None:
        if not self._authorized():
            return
        u = urlparse(self.path)
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        parts = u.path.strip("/").split("/")
        st = self.server_state
        if parts[:4] != ["api", "v1", "cache", st.name]:
            self._json(404, {"error": f"no cache here at {u.path}"})
            return
        rest = parts[4:]
        try:
            if rest == ["narinfo"]:
                hashes = json.loads(self._body() or b"[]")
                missing = [h for h in hashes if isinstance(h, str) and _HASH.match(h)
                           and not st.storage.exists(narinfo.narinfo_key(h))]
                self._json(200, missing)
            elif rest == ["multipart-nar"]:
                nar_id, upload_id = secrets.token_hex(16), secrets.token_hex(16)
                with st.lock:
                    st.uploads[nar_id] = upload_id
                self._json(200, {"narId": nar_id, "uploadId": upload_id})
            elif len(rest) == 2 and rest[0] == "multipart-nar":
                nar_id, part = rest[1], int(q["partNumber"])
                if st.uploads.get(nar_id) != q.get("uploadId"):
                    self._json(404, {"error": "unknown upload"})
                    return
                url = (f"{st.url}/api/v1/upload/{nar_id}/{part}?uploadId={q['uploadId']}"
                       f"&sig={st.sign(nar_id, part)}")
                self._json(200, {"uploadUrl": url})
            elif len(rest) == 3 and rest[0] == "multipart-nar" and rest[2] == "complete":
                self._complete(rest[1], q.get("uploadId", ""), json.loads(self._body()))
            else:
                self._json(404, {"error": f"unknown endpoint {u.path}"})
        except (KeyError, ValueError, TypeError) as exc:
            self._json(400, {"error": f"bad request: {exc}"})

    def do_PUT(self) -> None:
        u = urlparse(self.path)
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        parts = u.path.strip("/").split("/")
        st = self.server_state
        if parts[:3] == ["api", "v1", "upload"] and len(parts) == 5:
            nar_id, part = parts[3], int(parts[4])
            # presigned: the URL's signature is the authorization, as with S3
            if not hmac.compare_digest(q.get("sig", ""), st.sign(nar_id, part)):
                self._json(403, {"error": "bad upload signature"})
                return
            body = self._body()
            with st.lock:
                st.parts[(nar_id, part)] = body
            etag = hashlib.md5(body, usedforsecurity=False).hexdigest()
            self._send(200, b"", headers={"ETag": f'"{etag}"'})
            return
        if not self._authorized():
            return
        if parts[:4] == ["api", "v1", "cache", st.name] and parts[4:6] == ["zagi", "envs"]:
            body = self._body()
            json.loads(body)  # must be JSON
            st.storage.put_if_absent(narinfo.manifest_key(parts[6].removesuffix(".json")), body)
            self._json(200, {})
            return
        self._json(404, {"error": "not found"})

    def _complete(self, nar_id: str, upload_id: str, req: dict[str, Any]) -> None:
        st = self.server_state
        if st.uploads.get(nar_id) != upload_id:
            self._json(404, {"error": "unknown upload"})
            return
        chunks = []
        for p in sorted(req["parts"], key=lambda p: int(p["partNumber"])):
            data = st.parts.get((nar_id, int(p["partNumber"])))
            tag = hashlib.md5(data or b"", usedforsecurity=False).hexdigest()
            if data is None or p["eTag"].strip('"') != tag:
                self._json(400, {"error": f"part {p['partNumber']} missing or its ETag differs"})
                return
            chunks.append(data)
        blob = b"".join(chunks)
        c = req["narInfoCreate"]
        file_hash = nar.nix32(hashlib.sha256(blob).digest())
        if file_hash != c["cFileHash"] or len(blob) != int(c["cFileSize"]):
            self._json(400, {"error": "the uploaded NAR does not match cFileHash/cFileSize"})
            return
        store_path = f"/nix/store/{c['cStoreHash']}-{c['cStoreSuffix']}"
        refs = [str(r) for r in c.get("cReferences", [])]
        missing = [r for r in refs if r != f"{c['cStoreHash']}-{c['cStoreSuffix']}"
                   and not st.storage.exists(narinfo.narinfo_key(r))]
        if missing:
            self._json(409, {"error": f"references not in the cache yet: {missing[0]}"})
            return
        url = narinfo.nar_key(file_hash)
        if not st.storage.exists(url):
            st.storage.put(url, blob)
        deriver = c.get("cDeriver")
        info = NarInfo(store_path=store_path, url=url, nar_hash=c["cNarHash"],
                           nar_size=int(c["cNarSize"]), compression="zstd",
                           file_hash=f"sha256:{file_hash}", file_size=len(blob),
                           references=refs,
                           deriver=None if deriver in (None, "unknown-deriver") else deriver,
                           sigs=[c["cSig"]] if c.get("cSig") else [])
        name = narinfo.narinfo_key(c["cStoreHash"])
        try:
            rules.commit_narinfo(st.storage, name, info)
        except Conflict:
            self._json(409, {"error": f"{name} exists with another NarHash"})
            return
        with st.lock:
            for p in req["parts"]:
                st.parts.pop((nar_id, int(p["partNumber"])), None)
            st.uploads.pop(nar_id, None)
        self._json(200, {})
