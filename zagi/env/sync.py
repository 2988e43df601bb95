"""`zagi sync` when the env is not already realized (the cached case is zagi/env/fastsync.py).

A lock that records this system's closure is a download: its output path is copied from
a zagi cache (signatures checked) or substituted from the user's own caches, with no
evaluation at all. Only when neither has it (or with --verify) is the env evaluated and
built, with Nix fetching what the user's caches have.

Order matters for "never a broken .zagi/env": build, verify the closure against the
lock, register the GC root, write the activation files, and only then flip the
symlink with one rename. A kill at any point leaves the old env or the new one.
"""

from __future__ import annotations

import contextlib
import fcntl
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from zagi.cache import reader as cache_mod
from zagi.cache.reader import CacheConfig
from zagi.core import layout
from zagi.core.errors import BadInput, NeedsBuild, NixError, NotLocked
from zagi.core.fsutil import atomic_write, read_bounded
from zagi.core.layout import Project
from zagi.drivers import nix
from zagi.env import compose, state, trust
from zagi.env.progress import Progress, Silent
from zagi.env.result import SyncResult
from zagi.formats import lockfile
from zagi.formats.lockfile import Lock, PathInfo, SystemLock

if TYPE_CHECKING:
    from nixgen.catalog import Catalog

# env.toml's size bound, without importing the env.toml models (pydantic) on the
# download path; tests/unit/test_layout.py keeps it equal to spec.MAX_SPEC_BYTES.
MAX_SPEC_BYTES = 1 << 20


@contextlib.contextmanager
def project_lock(project: Project) -> Iterator[None]:
    """One sync at a time per project (a second one waits, then finds the env ready)."""
    project.zagi_dir.mkdir(parents=True, exist_ok=True)
    with project.sync_lock.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _verify(lk: Lock, system: str, out: str) -> tuple[PathInfo, ...]:
    """The closure as the store has it, refusing any difference from the lock."""
    have = {p.path: p for p in nix.closure(out)}
    entry = lk.system(system)
    locked = entry.closure if entry else None
    if not locked:
        return tuple(have.values())
    for rec in locked:
        got = have.get(rec.path)
        if got is None:
            raise BadInput(f"{rec.path} is in the lock's closure but not in the built env",
                           file=str(lk.path), hint="the lock was edited; run `zagi lock`")
        if (got.nar_hash, got.nar_size) != (rec.nar_hash, rec.nar_size):
            raise BadInput(
                f"{rec.path}: the lock says {rec.nar_hash} ({rec.nar_size} bytes) but "
                f"the store has {got.nar_hash} ({got.nar_size} bytes); refusing to use it",
                file=str(lk.path), hint="the lock was edited or the build is not reproducible; "
                                        "inspect with `git diff .zagi/env.lock`")
    # A partial entry (locked from another system) lists all but the env's own output.
    allowed = {r.path for r in locked} | ({entry.out} if entry and entry.partial else set())
    extra = sorted(set(have) - allowed)
    if extra:
        raise BadInput(f"the built env has paths the lock does not list: {extra[0]}",
                       file=str(lk.path), hint="run `zagi lock`")
    return tuple(sorted(have.values(), key=lambda p: p.path)) if entry and entry.partial \
        else locked


def _install(project: Project, env_id: str, out: str, lk: Lock, opts: nix.Options,
             closure: tuple[PathInfo, ...], paths: compose.Paths | None = None) -> None:
    """Everything the env needs is written before the GC root that marks it usable, so a
    crash or a full disk in between leaves an env that no later sync calls "cached".
    `paths`: the packages' paths when the lock does not record them (--frozen)."""
    entry = lk.system(nix.current_system())
    state.write_activation(env_id, out, dict(lk.env), compose.propagated(
        paths if paths is not None else entry.packages if entry else None))
    state.write_json(layout.env_dir(env_id) / "info.json", {
        "out": out, "system": nix.current_system(), "env_id": env_id,
        "closure_size": sum(p.nar_size for p in closure), "paths": len(closure),
        "created": int(time.time())})
    state.touch_last_used(env_id)
    state.note_project(env_id, project.root)
    layout.roots_dir().mkdir(parents=True, exist_ok=True)
    nix.realise(out, opts, root=layout.root_path(env_id))


def root_sources(lk: Lock, env_id: str, opts: nix.Options) -> int:
    """GC-root the package-set trees an evaluation fetched (fetchTarball's `source`
    paths), as nix-direnv does; the .drv files stay alive with the rooted output (Nix's
    keep-derivations). How many were rooted."""
    n = 0
    for i, (_rev, src) in enumerate(sorted(lk.nixpkgs.items())):
        path = nix.fixed_output_path(src.sha256) if src.url and src.sha256 else None
        if path is not None and nix.is_valid(path):
            nix.realise(path, opts, root=layout.source_root(env_id, i))
            n += 1
    return n


def _mount(project: Project, env_id: str, out: str) -> list[str]:
    """The env in place for the project: its .zagi/env link, its own activation, then
    .synced (what the hooks and the cached path read). Notes for the user."""
    if not project.gitignore.exists():
        atomic_write(project.gitignore, "# machine-local: the realized env and sync state\n"
                     + "".join(f"/{name}\n" for name in layout.LOCAL_FILES))
    state.flip_symlink(project.mount, out)
    raw = read_bounded(project.env_toml, MAX_SPEC_BYTES)
    notes = _project_activation(project, raw, out)
    # What the cached fast path compares: env id and the exact env.toml bytes it came from.
    digest = layout.spec_digest(raw)
    atomic_write(project.synced, layout.render_synced(env_id, digest))
    return notes


def _project_activation(project: Project, raw: bytes, out: str) -> list[str]:
    """The project's own activation: its service connection variables (per project:
    ports differ) and its Python venv (zagi/env/pyvenv.py), written before .synced so a
    hook that sees the new sync also sees them."""
    from zagi.env import pyvenv

    py = pyvenv.interpreter(out)
    if b"services" not in raw and py is None and not layout.project_dir(project.root).exists():
        return []  # nothing of the project's own, none before: skip loading the spec
    from zagi.formats import spec as specfile
    from zagi.services import declared

    spec = specfile.load(project.env_toml)
    sets = declared.write_state(project, spec)
    prepend, venv_sets, note = pyvenv.ensure(project.root, py, set(spec.tools))
    state.write_project_activation(project.root, prepend, {**sets, **venv_sets})
    return [note] if note else []


class _Notes:
    """Notes for the result, each also said at once through the progress display."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.items: list[str] = []

    def add(self, text: str) -> None:
        self.items.append(text)
        self.progress.note(text)


def _download(env_id: str, entry: SystemLock, caches: CacheConfig | None,
              progress: Progress, notes: _Notes) -> tuple[list[str], str | None, bool] | None:
    """Make the locked output valid without evaluating: (paths fetched, the zagi cache
    they came from, whether every path came from narinfos checked against the lock), or
    None when no cache has it (then it is built)."""
    if nix.is_valid(entry.out):
        return [], None, False  # already here: another project, an earlier clone
    fetched: list[str] = []

    def event(kind: str, path: str) -> None:
        fetched.append(path)
        progress.event(kind, path)

    closure = [r.path for r in entry.closure or ()]
    progress.plan(0, len(closure))
    offer: cache_mod.Offer | None = None
    found: list[str] = []
    if caches:
        offer = cache_mod.find(env_id, entry.closure or (), caches, found,
                               unpinned=entry.out if entry.partial else None)
        for text in found:
            notes.add(text)
        if offer is None and (hint := cache_mod.suggestion(caches)):
            notes.add(hint)
    if offer is not None and caches is not None:
        store = nix.store_info(full=False)
        if (why := cache_mod.blocked(offer, caches, store)) is not None:
            store = nix.store_info()  # the full facts, to be sure before refusing
            why = cache_mod.blocked(offer, caches, store)
        if why is not None:
            notes.add(why)
        elif offer.upstream and not nix.substitute(list(offer.upstream), event):
            notes.add(f"{offer.url} leaves {len(offer.upstream)} path(s) to the caches Nix "
                      "uses, and they could not deliver them; building instead")
        else:
            try:
                cache_mod.fetch(offer, caches, store, event)
                exact = not offer.upstream and not entry.partial and \
                    set(fetched) == set(closure)
                return fetched, offer.url, exact
            except NixError as exc:
                last = (exc.log_tail or "").strip().splitlines()[-1:] or [exc.message]
                notes.add(f"fetching from {offer.url} failed ({last[0]}); building instead")
    if nix.substitute([entry.out], event):
        return fetched, None, False
    return None


def _build(drv: str, opts: nix.Options, progress: Progress) -> tuple[list[str], list[str]]:
    """Realise an evaluated env: Nix fetches what the user's caches have, builds the rest.
    (What Nix really built comes from its own events, not from the plan.)"""
    planned, fetched = nix.would_build(drv, opts)
    progress.plan(len(planned), len(fetched))
    built: list[str] = []

    def event(kind: str, path: str) -> None:
        if kind == "build":
            built.append(path)
        progress.event(kind, path)

    nix.realise(drv, opts, on_event=event)
    return built, fetched


def _relock_if_stale(project: Project, frozen: bool, opts: nix.Options,
                     progress: Progress, build: bool = True) -> list[str] | None:
    """Relock when env.toml changed since the lock: what that built, or None if in step.

    The env.toml bytes the lock was made from (`spec_digest`) answer the common case
    without parsing env.toml; any other bytes are compared by meaning (`spec_hash`)."""
    lk = lockfile.read(project.lock) if project.lock.exists() else None
    raw = read_bounded(project.env_toml, MAX_SPEC_BYTES)
    if lk is not None and lk.spec_digest == layout.spec_digest(raw):
        return None
    from zagi.env import lock as locking
    from zagi.formats import spec

    if lk is not None and lk.spec_hash == locking.spec_hash(spec.load(project.env_toml)):
        return None
    if frozen:
        raise NotLocked("env.lock is missing or out of date with env.toml (--frozen)",
                        hint="run `zagi lock` and commit .zagi/env.lock")
    if not build:
        raise NeedsBuild("env.toml changed since env.lock: relocking needs Nix",
                         hint="run `zagi sync` (or `zagi lock`)")
    return locking.lock(project, None, opts, progress).built


def _same_out(lk: Lock, entry: SystemLock | None, out: str) -> None:
    if entry and entry.out != out:
        raise BadInput(f"the lock says the env is {entry.out} but its packages give {out}: "
                       "the package set differs from the one locked",
                       file=str(lk.path) if lk.path else None, hint="run `zagi lock` to relock")


def _compose(lk: Lock, entry: SystemLock | None, system: str, cat: Catalog, opts: nix.Options,
             progress: Progress, allowed: list[str], allow_unsandboxed: bool
             ) -> tuple[str, compose.Paths, list[str], list[str]]:
    """The env from its packages' store paths (zagi/env/compose.py): the lock's paths
    must be what the catalog (or, for a package it has no paths of, the vouched package
    set) gives; they are fetched from the caches Nix uses, built from nixpkgs only where
    none has them, and composed without nixpkgs. (out, paths, built, fetched)."""
    from zagi.env import lock as locking

    # A lock naming a package set zagi cannot vouch for is refused even when none of it
    # would be evaluated: it is not this catalog's lock (and a checkout of it later may be).
    locking.vouch(lk, cat, allowed)

    def before_build() -> None:
        locking.check_build_sandbox(lk, cat, allow_unsandboxed)

    paths = compose.package_paths(lk, cat, system, opts)
    if entry is not None and entry.packages != paths:
        wrong = sorted(n for n in set(paths) | set(entry.packages or {})
                       if paths.get(n) != (entry.packages or {}).get(n))
        raise BadInput(f"the lock's store paths for {', '.join(wrong)} are not what the catalog "
                       "and their package set give; nothing was fetched",
                       file=str(lk.path) if lk.path else None, hint="run `zagi lock` to relock")
    built: list[str] = []
    fetched: list[str] = []

    def event(kind: str, path: str) -> None:
        (built if kind == "build" else fetched).append(path)
        progress.event(kind, path)

    progress.plan(0, len(nix.invalid([p for ps in paths.values() for p in ps])))
    compose.realise_paths(lk, cat, paths, opts, event, before_build)
    drv, out = compose.derivation(lk, paths)
    _same_out(lk, entry, out)
    nix.realise(drv, opts, on_event=event)
    return out, paths, built, fetched


def _record_system(project: Project, lk: Lock, system: str, out: str,
                   closure: tuple[PathInfo, ...], paths: compose.Paths | None) -> Lock:
    """First build on this system: add its closure to the lock, keeping the user's trust
    (only zagi's own bookkeeping changed, not what the env is)."""
    was_allowed = trust.is_allowed(project.root, lk.env_id_for(system))
    lk = lockfile.write(project.lock, lk.with_system(system, SystemLock(out, closure,
                                                                       packages=paths)))
    if was_allowed:
        trust.allow_id(project.root, lk.env_id_for(system))
    return lk


def sync(project: Project, opts: nix.Options, frozen: bool = False,
         progress: Progress | None = None, caches: CacheConfig | None = None,
         allow_sources: list[str] | None = None, allow_unsandboxed: bool = False,
         verify: bool = False, build: bool = True) -> SyncResult:
    """`build=False` (git hooks): only what is cached or downloadable; NeedsBuild else."""
    progress = progress or Silent()
    notes = _Notes(progress)
    t0 = time.perf_counter()
    with project_lock(project):
        pre_built = _relock_if_stale(project, frozen, opts, progress, build)
        relocked = pre_built is not None
        pre_built = pre_built or []
        lk = lockfile.read(project.lock)
        system = nix.current_system()
        env_id = lk.env_id_for(system)
        entry = lk.system(system)
        if entry and layout.realized_out(env_id) == entry.out \
                and state.read_activation(env_id, entry.out) is not None:
            mounted = _mount(project, env_id, entry.out)
            state.touch_last_used(env_id)
            return SyncResult(env_id, entry.out, not relocked, relocked, pre_built,
                              ms=(time.perf_counter() - t0) * 1000, notes=mounted)
        if entry and entry.closure and not verify and \
                (got := _download(env_id, entry, caches, progress, notes)) is not None:
            # Every path copied just now from narinfos that say what the lock says (Nix
            # checks each NAR against its narinfo): the store holds the lock's closure.
            # Anything else (already here, from upstream caches) is asked of Nix.
            closure = entry.closure if got[2] else _verify(lk, system, entry.out)
            _install(project, env_id, entry.out, lk, opts, closure)
            for note in _mount(project, env_id, entry.out):
                notes.add(note)
            return SyncResult(env_id, entry.out, False, relocked, pre_built, got[0],
                              (time.perf_counter() - t0) * 1000, got[1], notes.items)
        if not build:
            raise NeedsBuild("this env is in no cache: it needs a build",
                             hint="run `zagi sync` to build it")
        from nixgen import catalog as catalog_mod
        from zagi.env import lock as locking

        cat = catalog_mod.load()
        allowed = locking.allowed_sources(allow_sources or [])
        if entry is not None and entry.packages is None:  # a lock from before store paths
            locking.vouch(lk, cat, allowed)
            from zagi.env.evaluate import evaluate

            drv, out = evaluate(lk, cat, system, opts)
            locking.check_build_sandbox(lk, cat, allow_unsandboxed)
            _same_out(lk, entry, out)
            built, fetched = _build(drv, opts, progress)
            paths = None
        else:
            out, paths, built, fetched = _compose(lk, entry, system, cat, opts, progress,
                                                  allowed, allow_unsandboxed)
        closure = _verify(lk, system, out)
        if entry is None and not frozen:
            lk = _record_system(project, lk, system, out, closure, paths)
            env_id = lk.env_id_for(system)
        _install(project, env_id, out, lk, opts, closure, paths)
        root_sources(lk, env_id, opts)
        for note in _mount(project, env_id, out):
            notes.add(note)
        return SyncResult(env_id, out, False, relocked, pre_built + built, fetched,
                          (time.perf_counter() - t0) * 1000, None, notes.items)
