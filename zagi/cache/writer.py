"""`zagi publish`: put the locked env's closure into a binary cache Nix can read.

One algorithm, two sinks: object storage (file://, s3://; zagi/storage) and a server
speaking the Cachix push API (cachix+http(s)://; zagi/cache/cachix.py). Either way:
find the paths the cache lacks, then per path (several at once, largest first) stream
`nix-store --dump` through sha256 and zstd straight into the sink, then write each
narinfo only after those of its references (zagi/cache/rules.py), then
envs/<env-id>.json, then nix-cache-info. Safe to re-run after a crash: what is already
there is skipped, and nothing is ever replaced.

NARs are named by their NarHash (`nar/<nix32>.nar.zst`), which the lock gives before a
byte is read, so the compressed stream goes straight to its final name: no temp copy,
and on S3 the parts upload while the rest compresses. The name is of the NAR, not of
the compressed bytes, so two publishers racing on one path (another zstd, another
level) leave a valid object whichever lands last; the narinfo therefore carries no
FileHash (it is not signed either): readers check the signed NarHash instead
(zagi/cache/reader.py), before anything is visible.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
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

__all__ = ["PublishResult", "Sink", "StorageSink", "nar_info", "publish"]

UPLOADERS = 8  # existence checks in flight
WORKERS = 4  # NARs streamed at once: two cores run nix-store, sha256 and zstd (bench/cache.py)


class Sink(Protocol):
    """Where a publish writes. Calls come in this order: missing, put_nar (in parallel),
    put_narinfo (in reference order, signed), put_manifest, finish."""

    url: str

    def missing(self, paths: list[str]) -> set[str]: ...
    def put_nar(self, path: str, chunks: Iterable[bytes], info: NarInfo) -> None:
        """Store the compressed NAR (`chunks`, which raise at their end if the NAR is not
        the one the lock names: nothing may then become visible) at info.url, unless
        it is there already."""
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

    def put_nar(self, path: str, chunks: Iterable[bytes], info: NarInfo) -> None:
        if not self.storage.exists(info.url):
            self.storage.put_stream(info.url, chunks)

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


class _Compressed:
    """A store path's NAR as zstd pieces, hashed on the way; raises at the end (before
    the sink can commit) when the store's bytes are not what the lock says."""

    def __init__(self, path: str, expect: PathInfo) -> None:
        self.path, self.expect, self.file_size = path, expect, 0

    def __iter__(self) -> Iterator[bytes]:
        import zstandard

        nar_h, size = hashlib.sha256(), 0
        # One thread per stream: several stream at once, and zstd's own threads only
        # oversubscribed two cores (bench/cache.py). The frame checksum lets any
        # reader tell a truncated object before hashing the NAR.
        comp = zstandard.ZstdCompressor(level=3, write_checksum=True).compressobj()
        for chunk in nix.dump(self.path):
            nar_h.update(chunk)
            size += len(chunk)
            if packed := comp.compress(chunk):
                self.file_size += len(packed)
                yield packed
        nar_hash = "sha256:" + nar.nix32(nar_h.digest())
        if (nar_hash, size) != (self.expect.nar_hash, self.expect.nar_size):
            raise ZagiError(f"{self.path}: the store has {nar_hash} ({size} bytes) but the lock "
                            f"says {self.expect.nar_hash}; refusing to publish it")
        tail = comp.flush()
        self.file_size += len(tail)
        yield tail


def nar_info(path: str, expect: PathInfo) -> NarInfo:
    """The narinfo of a path about to be published, named by its NarHash."""
    return NarInfo(store_path=path, url=narinfo.nar_key(expect.nar_hash.removeprefix("sha256:")),
                   nar_hash=expect.nar_hash, nar_size=expect.nar_size, compression="zstd")


def prepare(project: Project) -> tuple[Lock, str, str, dict[str, PathInfo]]:
    """(lock, system, out, closure by path) of a realized, locked env."""
    lk = lockfile.read(project.lock)
    system = nix.current_system()
    entry = lk.system(system)
    if not entry or not entry.closure:
        raise ZagiError(f"the lock has no {system} closure to publish", hint="run `zagi sync` first")
    if not Path(entry.out).exists():  # the valid-path check proper is nix.meta's, later
        raise ZagiError(f"{entry.out} is not in the local store", hint="run `zagi sync` first")
    if entry.partial:  # locked elsewhere: the env's own output was built here, by sync
        have = {p.path: p for p in nix.closure(entry.out)}
        if any(have.get(p.path) != p for p in entry.closure):
            raise ZagiError(f"the store's closure of {entry.out} differs from the lock",
                            hint="run `zagi sync` first")
        return lk, system, entry.out, have
    return lk, system, entry.out, {p.path: p for p in entry.closure}


def _metas(paths: list[str]) -> dict[str, nix.Meta]:
    try:
        return nix.meta(paths)
    except ZagiError as exc:  # a closure path that is not (or no longer) valid here
        raise ZagiError(exc.message, hint="run `zagi sync` first") from None


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
    # Three independent questions at once (each a process or round trips, ~30 ms):
    # what Nix says of the paths, where Nix fetches from, what the cache already has.
    with ThreadPoolExecutor(2) as side:
        metas_f = side.submit(_metas, sorted(closure))
        store_f = side.submit(nix.store_info)
        missing = sorted(sink.missing(sorted(closure)), key=lambda p: -closure[p].nar_size)
        metas = metas_f.result()
        res.skipped = len(closure) - len(missing)
        if not everything and isinstance(sink, StorageSink) and missing:
            from zagi.cache import upstream

            res.upstream = sorted(upstream.have([p for p in missing if p != out],
                                                store_f.result()))
            missing = [p for p in missing if p not in set(res.upstream)]
    if on_plan:
        on_plan(sum(closure[p].nar_size for p in missing))
    infos: dict[str, NarInfo] = {}

    done = threading.Lock()  # workers finish at once; one update at a time

    def upload(p: str) -> None:
        info, stream = nar_info(p, closure[p]), _Compressed(p, closure[p])
        sink.put_nar(p, stream, info)
        with done:
            infos[p] = info
            res.bytes += stream.file_size  # 0 when the NAR was already there
            if on_upload:
                on_upload(p, info.nar_size)

    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(upload, missing))
    refs = {p: list(m.references) for p, m in metas.items()}
    for p in rules.reference_order(missing, refs):
        info = infos[p]
        info.references = [narinfo.base_name(r) for r in refs[p]]
        if d := metas[p].deriver:
            info.deriver = narinfo.base_name(d)
        info.sigs = [key.sign(info.fingerprint())]
        sink.put_narinfo(p, info)
        res.uploaded.append(p)
    sink.put_manifest(lk.env_id_for(system),
                      manifest(lk, system, out, closure, key, res.upstream))
    sink.finish()
    res.seconds = time.perf_counter() - t0
    return res
