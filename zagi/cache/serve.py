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

Everything a pusher sends is untrusted. The server keeps the cache consistent as
publish does (zagi/cache/rules.py: FileHash checked, references first, a NarHash never
replaced), validates every field's format (no newline can smuggle a second
`References:` or a forged `Sig:` into a narinfo), refuses unsigned narinfos (so none can
squat a path a signed push needs) and, given --trust keys, signatures by anyone else;
streams uploads to disk with size caps and an expiry; requires a token unless started
with --allow-anonymous; and answers every bad request with a 4xx, never a traceback.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import re
import secrets
import shutil
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from zagi.cache import rules
from zagi.core.errors import BadInput, Conflict, ZagiError
from zagi.formats import nar, narinfo
from zagi.formats.keys import verify
from zagi.formats.narinfo import NarInfo
from zagi.storage import Storage

__all__ = ["CacheServer", "Limits"]

_N32 = "[0-9abcdfghijklmnpqrsvwxyz]"
_HASH = re.compile(f"^{_N32}{{32}}$")
_NAR_HASH = re.compile(f"^sha256:{_N32}{{52}}$")
_FILE_HASH = re.compile(f"^{_N32}{{52}}$")
_STORE_NAME = re.compile(r"^[A-Za-z0-9+\-_?=][A-Za-z0-9+\-._?=]{0,210}$")  # Nix's rules
_SIG = re.compile(r"^[A-Za-z0-9._\-]{1,128}:[A-Za-z0-9+/]{86}==$")  # ed25519: 64 bytes
_ENV_ID = re.compile(r"^[0-9a-f]{32}$")
_ID = re.compile(r"^[0-9a-f]{32}$")


class Limits:
    """What one server accepts; generous for real closures, small enough that a hostile
    client cannot fill the disk or memory."""

    part_bytes = 64 << 20  # one multipart part (the client sends 8 MiB)
    upload_bytes = 16 << 30  # one NAR, all parts
    json_bytes = 4 << 20  # any JSON request body
    open_uploads = 256
    upload_ttl = 3600.0  # seconds an unfinished upload is kept


class _Reject(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def _need(ok: bool, message: str, code: int = 400) -> None:
    if not ok:
        raise _Reject(code, message)


class _Uploads:
    """Multipart uploads on disk (never in memory), bounded in number, size and age."""

    def __init__(self, root: Path, limits: Limits) -> None:
        self.root, self.limits = root, limits
        self.started: dict[str, tuple[str, float]] = {}  # narId -> (uploadId, started)
        self.lock = threading.Lock()

    def expire(self) -> None:
        now = time.monotonic()
        with self.lock:
            old = [n for n, (_, t) in self.started.items() if now - t > self.limits.upload_ttl]
            for n in old:
                self.started.pop(n)
        for n in old:
            shutil.rmtree(self.root / n, ignore_errors=True)

    def start(self) -> tuple[str, str]:
        self.expire()
        nar_id, upload_id = secrets.token_hex(16), secrets.token_hex(16)
        with self.lock:
            _need(len(self.started) < self.limits.open_uploads,
                  "too many unfinished uploads; finish or wait for them to expire", 429)
            self.started[nar_id] = (upload_id, time.monotonic())
        (self.root / nar_id).mkdir(parents=True)
        return nar_id, upload_id

    def check(self, nar_id: str, upload_id: str) -> None:
        with self.lock:
            known = self.started.get(nar_id)
        _need(known is not None and hmac.compare_digest(known[0], upload_id),
              "unknown upload", 404)

    def part_path(self, nar_id: str, part: int) -> Path:
        return self.root / nar_id / f"{part:06d}"

    def drop(self, nar_id: str) -> None:
        with self.lock:
            self.started.pop(nar_id, None)
        shutil.rmtree(self.root / nar_id, ignore_errors=True)


class CacheServer:
    def __init__(self, storage: Storage, name: str, token: str | None, host: str, port: int,
                 *, allow_anonymous: bool = False, trusted_keys: list[str] | None = None,
                 limits: Limits | None = None, read_only: bool = False) -> None:
        self.read_only = read_only
        if token is None and not allow_anonymous and not read_only:
            raise BadInput("refusing to accept pushes from anyone: set ZAGI_CACHE_TOKEN (the "
                           "bearer token pushers must send), serve --read-only, or pass "
                           "--allow-anonymous")
        self.storage, self.name, self.token = storage, name, token
        self.trusted_keys = list(trusted_keys or [])
        self.limits = limits or Limits()
        self.key = secrets.token_bytes(32)  # signs the upload URLs this server hands out
        self._tmp = tempfile.TemporaryDirectory(prefix="zagi-serve-")
        self.uploads = _Uploads(Path(self._tmp.name), self.limits)
        handler = type("Handler", (_Handler,), {"server_state": self})
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self._serving = threading.Event()
        self.url = f"http://{host}:{self.httpd.server_address[1]}"
        if not storage.exists(narinfo.CACHE_INFO_KEY):
            storage.put_if_absent(narinfo.CACHE_INFO_KEY, narinfo.CACHE_INFO)

    def sign(self, nar_id: str, part: int) -> str:
        return hmac.new(self.key, f"{nar_id}/{part}".encode(), "sha256").hexdigest()

    def serve_forever(self) -> None:
        self._serving.set()
        self.httpd.serve_forever()

    def start(self) -> threading.Thread:
        t = threading.Thread(target=self.serve_forever, daemon=True)
        t.start()
        self._serving.wait(5)
        return t

    def stop(self) -> None:
        if self._serving.is_set():  # shutdown() waits for serve_forever, so only if it runs
            self.httpd.shutdown()
        self.httpd.server_close()
        self._tmp.cleanup()


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

    def _guarded(self, handle: Any) -> None:
        """Every request ends in an answer: 4xx for what the client got wrong, 500 (with
        no detail) for our own failure; never a dropped connection or a traceback."""
        try:
            handle()
        except _Reject as r:
            self.close_connection = True  # its body may not have been read
            self._json(r.code, {"error": r.message})
        except Conflict as exc:
            self._json(409, {"error": exc.message})
        except ZagiError as exc:
            self._json(502 if exc.exit_code == 1 else 400, {"error": exc.message})
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self._json(500, {"error": "internal error"})

    def _length(self, limit: int) -> int:
        raw = self.headers.get("Content-Length")
        _need(raw is not None, "Content-Length is required", 411)
        assert raw is not None
        _need(raw.isdigit(), "Content-Length must be a non-negative integer")
        n = int(raw)
        _need(n <= limit, f"body of {n} bytes is more than the {limit} allowed", 413)
        return n

    def _body(self, limit: int) -> bytes:
        n = self._length(limit)
        data = self.rfile.read(n) if n else b""
        _need(len(data) == n, "the body ended early")
        return data

    def _json_body(self) -> Any:
        try:
            return json.loads(self._body(self.server_state.limits.json_bytes) or b"null")
        except (ValueError, RecursionError):
            raise _Reject(400, "the body is not valid JSON") from None

    def _authorized(self) -> None:
        token = self.server_state.token
        if token is None:
            return  # started with --allow-anonymous
        got = self.headers.get("Authorization", "")
        _need(hmac.compare_digest(got.encode(), f"Bearer {token}".encode()),
              "missing or wrong bearer token", 401)

    def _route(self) -> tuple[list[str], dict[str, str]]:
        u = urlparse(self.path)
        _need("\0" not in u.path and ".." not in u.path.split("/"), "bad path")
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        return u.path.strip("/").split("/"), q

    # --- reads -----------------------------------------------------------------

    def do_GET(self) -> None:
        self._guarded(self._get)

    def do_HEAD(self) -> None:
        self._guarded(self._get)

    def _get(self) -> None:
        parts, _ = self._route()
        key = "/".join(parts)
        _need(bool(key) and "\\" not in key and not key.startswith("."), "bad key", 404)
        if key.startswith("nar/"):
            self._send_stream(key)
            return
        try:
            data = self.server_state.storage.get(key)
        except BadInput:
            data = None  # a key that would leave the cache
        if data is None:
            self._send(404, b"not found\n", "text/plain")
            return
        ctype = "text/x-nix-narinfo" if key.endswith(".narinfo") else "application/octet-stream"
        self._send(200, data, ctype)

    def _send_stream(self, key: str) -> None:
        """A NAR as it is read, in HTTP/1.1 chunks: a GB NAR never sits in the server's
        memory, and the first bytes leave before the last are read."""
        try:
            pieces = self.server_state.storage.stream(key)
        except BadInput:
            pieces = None
        if pieces is None:
            self._send(404, b"not found\n", "text/plain")
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if self.command == "HEAD":
            close = getattr(pieces, "close", None)
            if close is not None:
                close()
            return
        try:
            for piece in pieces:
                if piece:
                    self.wfile.write(b"%x\r\n%b\r\n" % (len(piece), piece))
        except Exception:
            # Headers are gone: the only honest signal left is a stream that never
            # ends properly, which every client reports as an error.
            self.close_connection = True
            return
        self.wfile.write(b"0\r\n\r\n")

    # --- writes (Cachix push API) ------------------------------------------------

    def do_POST(self) -> None:
        self._guarded(self._post)

    def do_PUT(self) -> None:
        self._guarded(self._put)

    def _post(self) -> None:
        _need(not self.server_state.read_only, "this server is read-only", 403)
        self._authorized()
        parts, q = self._route()
        st = self.server_state
        _need(parts[:4] == ["api", "v1", "cache", st.name], f"no cache here at /{'/'.join(parts)}",
              404)
        rest = parts[4:]
        if rest == ["narinfo"]:
            hashes = self._json_body()
            _need(isinstance(hashes, list) and len(hashes) <= 100_000, "expected a list of hashes")
            self._json(200, [h for h in hashes if isinstance(h, str) and _HASH.match(h)
                             and not st.storage.exists(narinfo.narinfo_key(h))])
        elif rest == ["multipart-nar"]:
            self._body(0)
            nar_id, upload_id = st.uploads.start()
            self._json(200, {"narId": nar_id, "uploadId": upload_id})
        elif len(rest) == 2 and rest[0] == "multipart-nar":
            self._body(0)
            nar_id, part = rest[1], _part_number(q.get("partNumber", ""))
            st.uploads.check(nar_id, q.get("uploadId", ""))
            url = (f"{st.url}/api/v1/upload/{nar_id}/{part}?uploadId={q['uploadId']}"
                   f"&sig={st.sign(nar_id, part)}")
            self._json(200, {"uploadUrl": url})
        elif len(rest) == 3 and rest[0] == "multipart-nar" and rest[2] == "complete":
            st.uploads.check(rest[1], q.get("uploadId", ""))
            try:
                self._complete(rest[1], self._json_body())
            except (_Reject, Conflict):
                st.uploads.drop(rest[1])  # a refused upload is over; its parts go now
                raise
        else:
            raise _Reject(404, f"unknown endpoint /{'/'.join(parts)}")

    def _put(self) -> None:
        _need(not self.server_state.read_only, "this server is read-only", 403)
        parts, q = self._route()
        st = self.server_state
        if parts[:3] == ["api", "v1", "upload"] and len(parts) == 5:
            nar_id, part = parts[3], _part_number(parts[4])
            # presigned: the URL's signature is the authorization, as with S3
            _need(hmac.compare_digest(q.get("sig", ""), st.sign(nar_id, part)),
                  "bad upload signature", 403)
            st.uploads.check(nar_id, q.get("uploadId", ""))
            etag = self._receive_part(st.uploads.part_path(nar_id, part))
            self._send(200, b"", headers={"ETag": f'"{etag}"'})
            return
        self._authorized()
        if parts[:4] == ["api", "v1", "cache", st.name] and parts[4:6] == ["zagi", "envs"] \
                and len(parts) == 7:
            env_id = parts[6].removesuffix(".json")
            _need(bool(_ENV_ID.match(env_id)), "bad env id")
            body = self._body(st.limits.json_bytes)
            try:
                json.loads(body)
            except (ValueError, RecursionError):
                raise _Reject(400, "the manifest is not JSON") from None
            st.storage.put_if_absent(narinfo.manifest_key(env_id), body)
            self._json(200, {})
            return
        raise _Reject(404, "not found")

    def _receive_part(self, dest: Path) -> str:
        """Stream one part to disk (checked against the caps as it comes), return its ETag."""
        n = self._length(self.server_state.limits.part_bytes)
        h = hashlib.md5(usedforsecurity=False)
        tmp = dest.with_suffix(".tmp")
        with tmp.open("wb") as fh:
            left = n
            while left:
                chunk = self.rfile.read(min(left, 1 << 20))
                _need(bool(chunk), "the body ended early")
                fh.write(chunk)
                h.update(chunk)
                left -= len(chunk)
        tmp.replace(dest)
        return h.hexdigest()

    def _complete(self, nar_id: str, req: Any) -> None:
        st = self.server_state
        _need(isinstance(req, dict) and isinstance(req.get("parts"), list)
              and isinstance(req.get("narInfoCreate"), dict), "expected {parts, narInfoCreate}")
        info = _narinfo(req["narInfoCreate"])
        self._check_signature(info)
        blob, file_hash, size = self._assemble(nar_id, req["parts"])
        c = req["narInfoCreate"]
        _need(file_hash == c["cFileHash"] and size == c["cFileSize"],
              "the uploaded NAR does not match cFileHash/cFileSize")
        own = narinfo.base_name(info.store_path)
        missing = [r for r in info.references
                   if r != own and not st.storage.exists(narinfo.narinfo_key(r))]
        _need(not missing, f"references not in the cache yet: {missing[:1]}", 409)
        info.url = narinfo.nar_key(file_hash)
        info.file_hash, info.file_size = f"sha256:{file_hash}", size
        if not st.storage.exists(info.url):
            st.storage.put_file(info.url, blob)
        rules.commit_narinfo(st.storage, narinfo.narinfo_key(info.store_path), info)
        st.uploads.drop(nar_id)
        self._json(200, {})

    def _check_signature(self, info: NarInfo) -> None:
        trusted = self.server_state.trusted_keys
        if trusted and verify(trusted, info.fingerprint(), info.sigs) is None:
            raise _Reject(403, "the narinfo is not signed by a key this server trusts")

    def _assemble(self, nar_id: str, parts: list[Any]) -> tuple[Path, str, int]:
        """The parts, in order and checked against their ETags, as one file on disk."""
        st = self.server_state
        out = st.uploads.root / nar_id / "nar"
        h = hashlib.sha256()
        size = 0
        numbers = []
        with out.open("wb") as dst:
            for p in sorted(parts, key=lambda p: _part_number(p.get("partNumber")
                                                               if isinstance(p, dict) else "")):
                n = _part_number(p["partNumber"])
                numbers.append(n)
                src = st.uploads.part_path(nar_id, n)
                _need(src.is_file(), f"part {n} was not uploaded")
                tag = hashlib.md5(usedforsecurity=False)
                with src.open("rb") as fh:
                    while chunk := fh.read(1 << 20):
                        tag.update(chunk)
                        h.update(chunk)
                        dst.write(chunk)
                        size += len(chunk)
                _need(str(p.get("eTag", "")).strip('"') == tag.hexdigest(),
                      f"part {n}: its ETag differs")
                _need(size <= st.limits.upload_bytes, "the NAR is larger than allowed", 413)
        _need(len(set(numbers)) == len(numbers), "a part is listed twice")
        return out, nar.nix32(h.digest()), size


def _part_number(raw: object) -> int:
    text = str(raw)
    _need(text.isdigit() and 1 <= int(text) <= 10_000, "partNumber must be 1..10000")
    return int(text)


def _narinfo(c: dict[str, Any]) -> NarInfo:
    """A NarInfo from push fields, every one checked: a value with a newline, a path
    outside the store or a malformed hash never reaches the cache."""
    def text(key: str, pattern: re.Pattern[str]) -> str:
        v = c.get(key)
        _need(isinstance(v, str) and bool(pattern.match(v)), f"{key}: not a valid value")
        return str(v)

    def count(key: str) -> int:
        v = c.get(key)
        if not (isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 1 << 50):
            raise _Reject(400, f"{key}: expected a non-negative integer")
        return v

    base = f"{text('cStoreHash', _HASH)}-{text('cStoreSuffix', _STORE_NAME)}"
    refs = c.get("cReferences", [])
    _need(isinstance(refs, list) and len(refs) <= 10_000, "cReferences: expected a list")
    for r in refs:
        _need(isinstance(r, str) and bool(_HASH.match(r[:32])) and r[32:33] == "-"
              and bool(_STORE_NAME.match(r[33:])), "cReferences: not store path names")
    deriver = c.get("cDeriver")
    if deriver in (None, "unknown-deriver"):
        deriver = None
    else:
        _need(isinstance(deriver, str) and deriver.endswith(".drv") and bool(_HASH.match(deriver[:32]))
              and bool(_STORE_NAME.match(deriver[33:])), "cDeriver: not a derivation name")
    sig = c.get("cSig")
    _need(isinstance(sig, str) and bool(_SIG.match(sig)),
          "cSig: a narinfo must be signed (NAME:base64 of an ed25519 signature)")
    text("cFileHash", _FILE_HASH)
    count("cFileSize")
    return NarInfo(store_path=f"{narinfo.STORE_DIR}/{base}", url="", compression="zstd",
                   nar_hash=text("cNarHash", _NAR_HASH), nar_size=count("cNarSize"),
                   references=sorted(str(r) for r in refs), deriver=deriver, sigs=[str(sig)])
