"""`zagi publish`: put the locked env's closure into a binary cache Nix can read.

Write order is what keeps a cache consistent (reference/nix-binary-cache.md): NARs
first (any order, in parallel, largest first), then each narinfo only after the
narinfos of all its references, then envs/<env-id>.json, then nix-cache-info. A
narinfo is never overwritten with a different NarHash. Safe to re-run after a crash.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zagi.app.project import Project
from zagi.core import lock as lockfile
from zagi.core import nar, nix, store
from zagi.core.errors import BadInput, ZagiError
from zagi.core.paths import zagi_home
from zagi.core.storage import open_url

CACHE_INFO = b"StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 40\n"
UPLOADERS = 8


def default_cache_url() -> str:
    return f"file://{zagi_home() / 'cache'}"


def keys_dir() -> Path:
    return zagi_home() / "keys"


def generate_key(name: str) -> tuple[Path, str]:
    if not name.replace("-", "").replace(".", "").isalnum():
        raise BadInput(f"{name!r}: a key name is letters, digits, '-' and '.' (e.g. cache.example-1)")
    path = keys_dir() / f"{name}.sec"
    if path.exists():
        raise BadInput(f"{path} already exists")
    key = nar.SecretKey.generate(name)
    from zagi.core.fsutil import atomic_write

    keys_dir().mkdir(parents=True, exist_ok=True)
    keys_dir().chmod(0o700)
    atomic_write(path, key.render() + "\n", mode=0o600)
    atomic_write(keys_dir() / f"{name}.pub", key.public() + "\n")
    return path, key.public()


def load_key(name: str | None) -> nar.SecretKey:
    keys = sorted(keys_dir().glob("*.sec")) if keys_dir().is_dir() else []
    if name:
        keys = [k for k in keys if k.stem == name]
    if not keys:
        raise ZagiError("no signing key" + (f" named {name}" if name else ""),
                        hint="create one with `zagi keys generate NAME`")
    if len(keys) > 1 and not name:
        raise BadInput(f"several signing keys ({', '.join(k.stem for k in keys)}); pick one with --key")
    return nar.SecretKey.parse(keys[0].read_text(), str(keys[0]))


@dataclass
class PublishResult:
    url: str
    env_id: str
    uploaded: list[str] = field(default_factory=list)
    skipped: int = 0
    bytes: int = 0
    seconds: float = 0.0


def _compress(path: str, expect: dict[str, Any], tmp: Path) -> tuple[Path, nar.NarInfo]:
    """NAR-dump a store path into a zstd file, hashing both streams on the way."""
    import zstandard

    base = path.removeprefix("/nix/store/")
    out = tmp / f"{base}.nar.zst"
    nar_h, file_h = hashlib.sha256(), hashlib.sha256()
    size = file_size = 0
    # Single-threaded per path: several paths upload at once, and zstd's own threads only
    # oversubscribed two cores (bench/cache.py).
    comp = zstandard.ZstdCompressor(level=3).compressobj()
    with out.open("wb") as fh:
        for chunk in itertools.chain(nar.dump(Path(path)), [None]):  # None: flush
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
    if (nar_hash, size) != (expect["narHash"], expect["narSize"]):
        raise ZagiError(f"{path}: the store has {nar_hash} ({size} bytes) but the lock says "
                        f"{expect['narHash']}; refusing to publish it")
    fhash = nar.nix32(file_h.digest())
    info = nar.NarInfo(store_path=path, url=f"nar/{fhash}.nar.zst", nar_hash=nar_hash,
                       nar_size=size, compression="zstd", file_hash=f"sha256:{fhash}",
                       file_size=file_size)
    return out, info


def _topological(paths: list[str], refs: dict[str, list[str]]) -> list[str]:
    """`paths` ordered so each comes after its references among `paths` (the others are
    already in the cache)."""
    wanted = set(paths)
    done: set[str] = set()
    order: list[str] = []

    def visit(p: str) -> None:
        if p in done:
            return
        done.add(p)
        for r in refs.get(p, []):
            if r != p and r in wanted:
                visit(r)
        order.append(p)

    for p in sorted(paths):
        visit(p)
    return order


def _prepare(project: Project) -> tuple[lockfile.Lock, str, str, dict[str, dict[str, Any]]]:
    """(lock, system, out, closure by path) of a realized, locked env."""
    lk = lockfile.read(project.lock)
    system = store.nix_system()
    entry = lk.system(system)
    if not entry or not entry.get("closure"):
        raise ZagiError(f"the lock has no {system} closure to publish", hint="run `zagi sync` first")
    out = entry["out"]
    if not nix.is_valid(out):
        raise ZagiError(f"{out} is not in the local store", hint="run `zagi sync` first")
    return lk, system, out, {p["path"]: p for p in entry["closure"]}


def _manifest(lk: lockfile.Lock, system: str, out: str, closure: dict[str, Any],
              key: nar.SecretKey) -> bytes:
    return json.dumps({"env_id": lk.env_id, "system": system, "out": out,
                       "closure": sorted(closure), "public_key": key.public()},
                      indent=2, sort_keys=True).encode() + b"\n"


def publish(project: Project, url: str | None, key_name: str | None,
            on_upload: Any = None, on_plan: Any = None) -> PublishResult:
    """`on_plan(total NAR bytes)` once, then `on_upload(path, NAR bytes)` per path done."""
    if url and url.startswith("cachix+"):
        from zagi.app import cachix

        return cachix.push(project, url.removeprefix("cachix+"), load_key(key_name))
    t0 = time.perf_counter()
    lk, system, out, closure = _prepare(project)
    key = load_key(key_name)
    cache = open_url(url or default_cache_url())
    res = PublishResult(cache.url, lk.env_id)
    with ThreadPoolExecutor(UPLOADERS) as pool:
        have = dict(zip(closure, pool.map(
            lambda p: cache.exists(p.removeprefix("/nix/store/")[:32] + ".narinfo"), closure),
            strict=True))
    missing = sorted((p for p in closure if not have[p]), key=lambda p: -closure[p]["narSize"])
    res.skipped = len(closure) - len(missing)
    if on_plan:
        on_plan(sum(closure[p]["narSize"] for p in missing))
    refs = nix.references(missing)
    infos: dict[str, nar.NarInfo] = {}
    with tempfile.TemporaryDirectory(prefix="zagi-publish-") as tmpd, ThreadPoolExecutor(UPLOADERS) as pool:

        def upload(p: str) -> None:
            f, info = _compress(p, closure[p], Path(tmpd))
            if not cache.exists(info.url):
                cache.put_file(info.url, f)
            f.unlink()
            infos[p] = info
            res.bytes += info.file_size or 0
            if on_upload:
                on_upload(p, info.nar_size)

        list(pool.map(upload, missing))
    for p in _topological(missing, refs):
        info = infos[p]
        info.references = [r.removeprefix("/nix/store/") for r in refs[p]]
        if d := nix.deriver(p):
            info.deriver = d.removeprefix("/nix/store/")
        info.sigs = [key.sign(info.fingerprint())]
        name = p.removeprefix("/nix/store/")[:32] + ".narinfo"
        if not cache.put_if_absent(name, info.render().encode()):
            existing = nar.NarInfo.parse((cache.get(name) or b"").decode(), f"{cache.url}/{name}")
            if existing.nar_hash != info.nar_hash:
                raise ZagiError(f"{cache.url}/{name} already describes {p} with another NarHash "
                                f"({existing.nar_hash}); refusing to overwrite it")
        res.uploaded.append(p)
    cache.put_if_absent(f"envs/{lk.env_id}.json", _manifest(lk, system, out, closure, key))
    cache.put_if_absent("nix-cache-info", CACHE_INFO)
    res.seconds = time.perf_counter() - t0
    return res
