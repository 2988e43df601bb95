"""`zagi publish`: put the locked env's closure into a binary cache Nix can read.

One algorithm, two sinks: object storage (file://, s3://; zagi/storage) and a server
speaking the Cachix push API (cachix+http(s)://; zagi/cache/cachix.py). Either way:
find the paths the cache lacks, NAR-dump and compress them in parallel (largest first)
and upload each NAR, then write each narinfo only after those of its references
(zagi/cache/rules.py), then envs/<env-id>.json, then nix-cache-info. Safe to re-run
after a crash: what is already there is skipped, and nothing is ever replaced.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from zagi.cache import keys, rules
from zagi.core import layout
from zagi.core.errors import ZagiError
from zagi.core.layout import Project
from zagi.drivers import nix
from zagi.formats import lockfile, nar, narinfo
from zagi.formats.keys import SecretKey
from zagi.formats.lockfile import Lock, PathInfo
from zagi.formats.narinfo import NarInfo
from zagi.storage import Storage, open_url

__all__ = ["PublishResult", "Sink", "StorageSink", "publish"]

UPLOADERS = 8


class Sink(Protocol):
    """Where a publish writes. Calls come in this order: missing, put_nar (in parallel),
    put_narinfo (in reference order, signed), put_manifest, finish."""

    url: str

    def missing(self, paths: list[str]) -> set[str]: ...
    def put_nar(self, path: str, file: Path, info: NarInfo) -> None: ...
    def put_narinfo(self, path: str, info: NarInfo) -> None: ...
    def put_manifest(self, env_id: str, data: bytes) -> None: ...
    def finish(self) -> None: ...


class StorageSink:
    """A cache laid out in object storage (reference/nix-binary-cache.md)."""

    def __init__(self, storage: Storage) -> None:
        self.storage, self.url = storage, storage.url

    def missing(self, paths: list[str]) -> set[str]:
        with ThreadPoolExecutor(UPLOADERS) as pool:
            have = pool.map(lambda p: self.storage.exists(narinfo.narinfo_key(p)), paths)
            return {p for p, there in zip(paths, have, strict=True) if not there}

    def put_nar(self, path: str, file: Path, info: NarInfo) -> None:
        if not self.storage.exists(info.url):
            self.storage.put_file(info.url, file)

    def put_narinfo(self, path: str, info: NarInfo) -> None:
        rules.commit_narinfo(self.storage, narinfo.narinfo_key(path), info)

    def put_manifest(self, env_id: str, data: bytes) -> None:
        self.storage.put_if_absent(narinfo.manifest_key(env_id), data)

    def finish(self) -> None:
        self.storage.put_if_absent(narinfo.CACHE_INFO_KEY, narinfo.CACHE_INFO)


def open_sink(url: str | None) -> Sink:
    if url and url.startswith("cachix+"):
        from zagi.cache.cachix import CachixSink

        return CachixSink(url.removeprefix("cachix+"))
    return StorageSink(open_url(url or layout.local_cache_url()))


@dataclass
class PublishResult:
    url: str
    env_id: str
    uploaded: list[str] = field(default_factory=list)
    skipped: int = 0
    upstream: list[str] = field(default_factory=list)  # left to the caches Nix uses
    bytes: int = 0
    seconds: float = 0.0


def compress(path: str, expect: PathInfo, tmp: Path) -> tuple[Path, NarInfo]:
    """NAR-dump a store path into a zstd file, hashing both streams on the way."""
    import zstandard

    out = tmp / f"{narinfo.base_name(path)}.nar.zst"
    nar_h, file_h = hashlib.sha256(), hashlib.sha256()
    size = file_size = 0
    # Single-threaded per path: several paths upload at once, and zstd's own threads only
    # oversubscribed two cores (bench/cache.py).
    comp = zstandard.ZstdCompressor(level=3).compressobj()
    with out.open("wb") as fh:
        # The NAR of many small files comes in many small pieces: hash and compress them
        # in batches, so the per-call cost is paid per batch (bench/cache.py).
        for chunk in itertools.chain(nar.batched(nar.dump(Path(path))), [None]):  # None: flush
            if chunk is None:
                packed = comp.flush()
            else:
                nar_h.update(chunk)
                size += len(chunk)
                packed = comp.compress(chunk)
            file_h.update(packed)
            file_size += len(packed)
            fh.write(packed)
    nar_hash = "sha256:" + nar.nix32(nar_h.digest())
    if (nar_hash, size) != (expect.nar_hash, expect.nar_size):
        raise ZagiError(f"{path}: the store has {nar_hash} ({size} bytes) but the lock says "
                        f"{expect.nar_hash}; refusing to publish it")
    fhash = nar.nix32(file_h.digest())
    info = NarInfo(store_path=path, url=narinfo.nar_key(fhash), nar_hash=nar_hash,
                   nar_size=size, compression="zstd", file_hash=f"sha256:{fhash}",
                   file_size=file_size)
    return out, info


def prepare(project: Project) -> tuple[Lock, str, str, dict[str, PathInfo]]:
    """(lock, system, out, closure by path) of a realized, locked env."""
    lk = lockfile.read(project.lock)
    system = nix.current_system()
    entry = lk.system(system)
    if not entry or not entry.closure:
        raise ZagiError(f"the lock has no {system} closure to publish", hint="run `zagi sync` first")
    if not nix.is_valid(entry.out):
        raise ZagiError(f"{entry.out} is not in the local store", hint="run `zagi sync` first")
    if entry.partial:  # locked elsewhere: the env's own output was built here, by sync
        have = {p.path: p for p in nix.closure(entry.out)}
        if any(have.get(p.path) != p for p in entry.closure):
            raise ZagiError(f"the store's closure of {entry.out} differs from the lock",
                            hint="run `zagi sync` first")
        return lk, system, entry.out, have
    return lk, system, entry.out, {p.path: p for p in entry.closure}


def manifest(lk: Lock, system: str, out: str, closure: dict[str, PathInfo],
             key: SecretKey, upstream: list[str]) -> bytes:
    """envs/<env-id>.json: one GET tells a clone whether this cache has its env, and which
    of its paths it leaves to the caches Nix uses (`upstream`: cache.nixos.org's glibc)."""
    return json.dumps({"env_id": lk.env_id_for(system), "system": system, "out": out,
                       "closure": sorted(closure), "public_key": key.public(),
                       "upstream": sorted(upstream)},
                      indent=2, sort_keys=True).encode() + b"\n"


def publish(project: Project, url: str | None, key_name: str | None,
            on_upload: Callable[[str, int], None] | None = None,
            on_plan: Callable[[int], None] | None = None,
            everything: bool = False) -> PublishResult:
    """`on_plan(total NAR bytes)` once, then `on_upload(path, NAR bytes)` per path done.

    Paths the caches Nix uses already hold are not uploaded (`everything`: upload them
    too, for a cache that must stand alone); a clone fetches them from those caches. The
    Cachix push API needs every reference in the cache, so it gets everything."""
    t0 = time.perf_counter()
    sink = open_sink(url)
    lk, system, out, closure = prepare(project)
    key = keys.load(key_name)
    res = PublishResult(sink.url, lk.env_id_for(system))
    missing = sorted(sink.missing(sorted(closure)), key=lambda p: -closure[p].nar_size)
    res.skipped = len(closure) - len(missing)
    if not everything and isinstance(sink, StorageSink) and missing:
        from zagi.cache import upstream

        res.upstream = sorted(upstream.have([p for p in missing if p != out],
                                            nix.store_info()))
        missing = [p for p in missing if p not in set(res.upstream)]
    if on_plan:
        on_plan(sum(closure[p].nar_size for p in missing))
    refs = nix.references(missing)
    infos: dict[str, NarInfo] = {}
    with tempfile.TemporaryDirectory(prefix="zagi-publish-") as tmpd, \
            ThreadPoolExecutor(UPLOADERS) as pool:

        def upload(p: str) -> None:
            f, info = compress(p, closure[p], Path(tmpd))
            sink.put_nar(p, f, info)
            f.unlink()
            infos[p] = info
            res.bytes += info.file_size or 0
            if on_upload:
                on_upload(p, info.nar_size)

        list(pool.map(upload, missing))
    for p in rules.reference_order(missing, refs):
        info = infos[p]
        info.references = [narinfo.base_name(r) for r in refs[p]]
        if d := nix.deriver(p):
            info.deriver = narinfo.base_name(d)
        info.sigs = [key.sign(info.fingerprint())]
        sink.put_narinfo(p, info)
        res.uploaded.append(p)
    sink.put_manifest(lk.env_id_for(system),
                      manifest(lk, system, out, closure, key, res.upstream))
    sink.finish()
    res.seconds = time.perf_counter() - t0
    return res
