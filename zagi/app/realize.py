"""`zagi sync` when the env is not already realized (the cached case is zagi/app/fastsync.py).

Order matters for "never a broken .zagi/env": build, verify the closure against the
lock, register the GC root, write the activation files, and only then flip the
symlink with one rename. A kill at any point leaves the old env or the new one.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from nixgen import catalog as catalog_mod
from zagi.app import activate, locking
from zagi.app import caches as cache_mod
from zagi.app.caches import CacheConfig
from zagi.app.progress import Progress, Silent
from zagi.app.project import Project
from zagi.core import lock as lockfile
from zagi.core import nix, spec, store
from zagi.core.errors import BadInput, ZagiError
from zagi.core.fsutil import atomic_write


@dataclass
class SyncResult:
    env_id: str
    out: str
    cached: bool
    relocked: bool = False
    built: list[str] = field(default_factory=list)
    fetched: list[str] = field(default_factory=list)
    ms: float = 0.0
    source: str | None = None  # the binary cache the env came from, if any
    notes: list[str] = field(default_factory=list)  # caches skipped and why


@contextlib.contextmanager
def project_lock(project: Project) -> Iterator[None]:
    """One sync at a time per project (a second one waits, then finds the env ready)."""
    project.zagi_dir.mkdir(parents=True, exist_ok=True)
    with (project.zagi_dir / ".sync.lock").open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _verify(lk: lockfile.Lock, system: str, out: str) -> list[dict[str, Any]]:
    """The closure as the store has it, refusing any difference from the lock."""
    have = {p.path: p for p in nix.closure(out)}
    entry = lk.system(system)
    locked = entry.get("closure") if entry else None
    if not locked:
        return [{"path": p.path, "narHash": p.nar_hash, "narSize": p.nar_size}
                for p in have.values()]
    for rec in locked:
        got = have.get(rec["path"])
        if got is None:
            raise BadInput(f"{rec['path']} is in the lock's closure but not in the built env",
                           file=str(lk.path), hint="the lock was edited; run `zagi lock`")
        if (got.nar_hash, got.nar_size) != (rec["narHash"], rec["narSize"]):
            raise BadInput(
                f"{rec['path']}: the lock says {rec['narHash']} ({rec['narSize']} bytes) but "
                f"the store has {got.nar_hash} ({got.nar_size} bytes); refusing to use it",
                file=str(lk.path), hint="the lock was edited or the build is not reproducible; "
                                        "inspect with `git diff .zagi/env.lock`")
    extra = sorted(set(have) - {r["path"] for r in locked})
    if extra:
        raise BadInput(f"the built env has paths the lock does not list: {extra[0]}",
                       file=str(lk.path), hint="run `zagi lock`")
    return list(locked)


def _install(project: Project, env_id: str, drv: str, out: str, lk: lockfile.Lock,
             opts: nix.Options, closure: list[dict[str, Any]]) -> None:
    store.roots_dir().mkdir(parents=True, exist_ok=True)
    nix.realise(drv, opts, root=store.root_path(env_id))
    d = store.env_dir(env_id)
    store.write_activation(env_id, out, dict(lk.data.get("env", {})))
    store.write_json(d / "info.json", {
        "out": out, "system": store.nix_system(), "env_id": env_id,
        "closure_size": sum(int(p["narSize"]) for p in closure), "paths": len(closure),
        "created": int(time.time())})
    store.touch_last_used(env_id)
    store.note_project(env_id, project.root)


def _mount(project: Project, env_id: str, out: str) -> None:
    ignore = project.zagi_dir / ".gitignore"
    if not ignore.exists():
        atomic_write(ignore, "# machine-local: the realized env and sync state\n/env\n"
                             "/.sync.lock\n/.synced\n")
    store.flip_symlink(project.mount, out)
    # What the cached fast path compares: env id and the exact env.toml bytes it came from.
    digest = hashlib.sha256(project.env_toml.read_bytes()).hexdigest()
    atomic_write(project.zagi_dir / ".synced", f"{env_id}\n{digest}\n")


def _realise(drv: str, out: str, env_id: str, entry: dict[str, Any] | None, opts: nix.Options,
             caches: CacheConfig | None, progress: Progress,
             notes: list[str]) -> tuple[list[str], list[str], str | None]:
    """Fetch from a cache that has the env (signatures checked first), else build."""
    offer = None
    closure = [r["path"] for r in entry.get("closure", [])] if entry else []
    if caches and closure and not nix.is_valid(out):
        offer = cache_mod.find(env_id, closure, caches, notes)
    use = cache_mod.options(offer, caches) if offer and caches else opts
    planned, fetched = nix.would_build(drv, use)
    progress.plan(len(planned), len(fetched))
    built: list[str] = []  # what Nix really built, from its own events (not the plan)

    def event(kind: str, path: str) -> None:
        if kind == "build":
            built.append(path)
        progress.event(kind, path)

    try:
        nix.realise(drv, use, on_event=event)
    except nix.NixError as exc:
        if offer is None:
            raise
        notes.append(f"fetching from {offer.source} failed ({exc.message}); building instead")
        planned, fetched = nix.would_build(drv, opts)
        progress.plan(len(planned), len(fetched))
        nix.realise(drv, opts, on_event=event)
        offer = None
    if offer and built:  # Nix could not fetch some paths and built them itself
        notes.append(f"{offer.source} did not deliver {len(built)} path(s) (missing or damaged "
                     "NARs); they were built instead")
        offer = None
    return built, fetched, offer.source if offer else None


def sync(project: Project, opts: nix.Options, frozen: bool = False,
         progress: Progress | None = None, caches: CacheConfig | None = None) -> SyncResult:
    progress = progress or Silent()
    notes: list[str] = []
    t0 = time.perf_counter()
    with project_lock(project):
        relocked = False
        current = locking.spec_hash(spec.load(project.env_toml))
        stale = not project.lock.exists() or lockfile.read(project.lock).spec_hash != current
        if stale and frozen:
            raise ZagiError("env.lock is missing or out of date with env.toml (--frozen)",
                            hint="run `zagi lock` and commit .zagi/env.lock")
        pre_built: list[str] = []
        if stale:
            pre_built = locking.lock(project, None, opts, progress).built
            relocked = True
        lk = lockfile.read(project.lock)
        env_id, system = lk.env_id, store.nix_system()
        entry = lk.system(system)
        if entry and store.realized_out(env_id) == entry["out"]:
            _mount(project, env_id, entry["out"])
            store.touch_last_used(env_id)
            return SyncResult(env_id, entry["out"], not relocked, relocked, pre_built,
                              ms=(time.perf_counter() - t0) * 1000)
        drv, out = locking.evaluate(lk.data, catalog_mod.load(), system, opts)
        if entry and entry["out"] != out:
            raise BadInput(f"the lock says the env is {entry['out']} but evaluating it gives "
                           f"{out}: the package set differs from the one locked",
                           file=str(project.lock), hint="run `zagi lock` to relock")
        built, fetched, source = _realise(drv, out, env_id, entry, opts, caches, progress, notes)
        closure = _verify(lk, system, out)
        if entry is None and not frozen:  # first build on this system: record it
            data = dict(lk.data)
            data["systems"] = {**lk.data["systems"], system: {"out": out, "closure": closure}}
            lk = lockfile.write(project.lock, data)
            # Only zagi's own bookkeeping changed, not what the env is: keep the user's trust.
            if activate.is_allowed(project.root, env_id):
                activate.allow_id(project.root, lk.env_id)
            env_id = lk.env_id
        _install(project, env_id, drv, out, lk, opts, closure)
        _mount(project, env_id, out)
        return SyncResult(env_id, out, False, relocked, pre_built + built, fetched,
                          (time.perf_counter() - t0) * 1000, source, notes)
