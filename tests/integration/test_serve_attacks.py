"""`zagi cache serve` against hostile pushers and readers, on 127.0.0.1: every bad request
is a 4xx, nothing malformed reaches the cache, and nothing accumulates in memory."""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zagi.cache.serve import CacheServer, Limits
from zagi.core.errors import BadInput
from zagi.formats import keys, nar
from zagi.storage import open_url

pytestmark = pytest.mark.integration
TOKEN = "t0ken"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
KEY = keys.SecretKey.generate("team-1")
EMPTY = nar.nix32(hashlib.sha256(b"").digest())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    root = tmp_path_factory.mktemp("served")
    limits = Limits()
    limits.open_uploads = 20
    srv = CacheServer(open_url(f"file://{root}"), "team", TOKEN, "127.0.0.1", 0,
                      trusted_keys=[KEY.public()], limits=limits)
    srv.start()
    yield srv.url, root
    srv.stop()


def _api(url: str) -> str:
    return f"{url}/api/v1/cache/team"


def _good_fields(name: str = "hello-1.0") -> dict[str, Any]:
    from zagi.formats.narinfo import NarInfo

    store_hash = nar.nix32(hashlib.sha256(name.encode()).digest())[:32]
    info = NarInfo(f"/nix/store/{store_hash}-{name}", "", "sha256:" + "0" * 52, 0)
    return {"cStoreHash": store_hash, "cStoreSuffix": name, "cNarHash": info.nar_hash,
            "cNarSize": 0, "cFileHash": EMPTY, "cFileSize": 0, "cReferences": [],
            "cDeriver": "unknown-deriver", "cSig": KEY.sign(info.fingerprint())}


def _complete(url: str, fields: dict[str, Any]) -> httpx.Response:
    start = httpx.post(f"{_api(url)}/multipart-nar", headers=AUTH).json()
    return httpx.post(f"{_api(url)}/multipart-nar/{start['narId']}/complete",
                      params={"uploadId": start["uploadId"]}, headers=AUTH,
                      json={"parts": [], "narInfoCreate": fields})


def _narinfos(root: Path) -> list[str]:
    return sorted(p.name for p in root.glob("*.narinfo"))


def test_anonymous_pushes_need_an_explicit_flag(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="allow-anonymous"):
        CacheServer(open_url(f"file://{tmp_path}"), "x", None, "127.0.0.1", 0)
    CacheServer(open_url(f"file://{tmp_path}"), "x", None, "127.0.0.1", 0,
                allow_anonymous=True).stop()
    ro = CacheServer(open_url(f"file://{tmp_path}"), "x", None, "127.0.0.1", 0, read_only=True)
    ro.start()
    try:
        assert httpx.post(f"{ro.url}/api/v1/cache/x/narinfo", json=[]).status_code == 403
        assert httpx.get(f"{ro.url}/nix-cache-info").status_code == 200
    finally:
        ro.stop()


def test_a_good_push_lands_and_a_forged_one_does_not(server: tuple[str, Path]) -> None:
    url, root = server
    assert _complete(url, _good_fields("good-1.0")).status_code == 200
    assert len(_narinfos(root)) == 1
    forged = _good_fields("forged-1.0")
    forged["cSig"] = keys.SecretKey.generate("team-1").sign(b"whatever")  # same name, other key
    assert _complete(url, forged).status_code == 403
    unsigned = _good_fields("unsigned-1.0")
    del unsigned["cSig"]
    assert _complete(url, unsigned).status_code == 400  # cannot squat the path
    assert len(_narinfos(root)) == 1


@pytest.mark.parametrize(("field", "value"), [
    ("cStoreHash", "nar/evil" + "a" * 24),
    ("cStoreSuffix", "x\nSig: evil:AAAA"),
    ("cStoreSuffix", "../../etc"),
    ("cNarHash", "md5:" + "0" * 32),
    ("cNarHash", "sha256:" + "0" * 52 + "\nReferences: x"),
    ("cNarSize", -1),
    ("cNarSize", "12"),
    ("cNarSize", True),
    ("cFileSize", -5),
    ("cReferences", ["b" * 32 + "-x\nSig: y"]),
    ("cReferences", "not-a-list"),
    ("cDeriver", "x\nReferences: forged"),
    ("cSig", "k:AAA\nSig: evil"),
    ("cFileHash", "\0" * 52),
])
def test_malformed_push_fields_are_400(server: tuple[str, Path], field: str, value: Any) -> None:
    url, root = server
    before = _narinfos(root)
    fields = _good_fields("field-1.0")
    fields[field] = value
    r = _complete(url, fields)
    assert r.status_code == 400, r.text
    assert _narinfos(root) == before


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from(list(_good_fields())),
                       st.one_of(st.text(max_size=80), st.integers(), st.none(),
                                 st.lists(st.text(max_size=40), max_size=3)), max_size=9))
def test_fuzzed_push_fields_are_never_a_5xx(server: tuple[str, Path], fields: dict[str, Any]) -> None:
    url, root = server
    before = _narinfos(root)
    r = _complete(url, fields)
    assert 400 <= r.status_code < 500, r.text
    assert _narinfos(root) == before


def _raw(url: str, request: bytes) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(request)
        return s.recv(4096)


def test_bad_reads_and_bodies_are_answered_not_dropped(server: tuple[str, Path]) -> None:
    url, root = server
    (root / "adir").mkdir(exist_ok=True)
    assert httpx.get(f"{url}/adir").status_code == 404
    assert httpx.get(f"{url}/../etc/passwd").status_code in (400, 404)
    assert _raw(url, b"GET /a%00b HTTP/1.1\r\nHost: x\r\n\r\n").startswith(b"HTTP/1.1 4")
    neg = _raw(url, b"POST /api/v1/cache/team/narinfo HTTP/1.1\r\nHost: x\r\n"
                    b"Authorization: Bearer t0ken\r\nContent-Length: -1\r\n\r\n")
    assert neg.startswith(b"HTTP/1.1 400")
    huge = _raw(url, b"POST /api/v1/cache/team/narinfo HTTP/1.1\r\nHost: x\r\n"
                     b"Authorization: Bearer t0ken\r\nContent-Length: 107374182400\r\n\r\n[")
    assert huge.startswith(b"HTTP/1.1 413")  # refused without reading 100 GB
    assert httpx.post(f"{_api(url)}/narinfo", content=b"[]").status_code == 401


def test_abandoned_uploads_are_capped_and_live_on_disk(server: tuple[str, Path]) -> None:
    url, _ = server
    codes = [httpx.post(f"{_api(url)}/multipart-nar", headers=AUTH).status_code
             for _ in range(25)]
    assert 429 in codes  # at most Limits.open_uploads unfinished uploads at once
