"""`zagi lock`: env.toml -> resolved choices -> evaluated (and, here, built) env -> env.lock."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from nixgen import catalog as catalog_mod
from nixgen.catalog import Catalog
from nixgen.resolve import Choice, bundled, checked, escape_hatch, resolve
from zagi.core.errors import BadInput, NotLocked
from zagi.core.layout import Project
from zagi.core.versions import parse_request
from zagi.drivers import nix
from zagi.env import compose
from zagi.env.evaluate import _template_source
from zagi.env.progress import Progress, Silent
from zagi.formats import lockfile, spec
from zagi.formats.lockfile import Lock, Package, Source, SystemLock
from zagi.formats.spec import EnvSpec, ToolSpec


def spec_hash(s: EnvSpec) -> str:
    """Hash of what the env means (not of comments or order; not of the project name).

    Tasks and how a service is reached (port, database, user) are not part of the env:
    changing them relocks nothing. A service's table form hashes as its bare version, so
    `redis = "7"` and `redis = { version = "7", port = 6400 }` are one env."""
    data = s.model_dump(mode="json", by_alias=True, exclude={"project", "tasks"})
    data["services"] = {n: s.service(n).version for n in s.services}
    return "sha256:" + hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def resolve_all(s: EnvSpec, cat: Catalog) -> dict[str, tuple[str, Choice]]:
    """name -> (kind, choice) for every tool, system package and service."""
    pin = s.nix.nixpkgs if s.nix else None
    out: dict[str, tuple[str, Choice]] = {}
    for name, val in s.tools.items():
        if isinstance(val, ToolSpec) and val.attr:
            out[name] = ("tool", escape_hatch(cat, name, val.attr, val.nixpkgs or pin))
        else:
            rev = val.nixpkgs if isinstance(val, ToolSpec) else None
            out[name] = ("tool", resolve(cat, name, s.tool_version(name) or "latest", rev or pin))
    for name in s.system.packages:
        out[name] = ("system", _system(cat, name, pin))
    for name in s.services:
        out[name] = ("service", resolve(cat, name, s.service(name).version, pin))
    return out


_ATTR = re.compile(r"[A-Za-z_][A-Za-z0-9_'-]*(?:\.[A-Za-z_][A-Za-z0-9_'-]*)*")


def _system(cat: Catalog, name: str, pin: str | None) -> Choice:
    """A system package: the catalog's, or else the nixpkgs attribute of that name
    ([system] packages are attribute names; `zagi lock` checks that it exists)."""
    import difflib

    known = set(catalog_mod.attrs_table())
    # a near-miss of a known name (libpqq for libpq) is a typo to point out, not an
    # attribute to try; a variant (openssl_1_1 beside openssl) is farther than 0.85
    if (name not in known and _ATTR.fullmatch(name)
            and not difflib.get_close_matches(name, sorted(known | set(cat.packages)), n=1,
                                              cutoff=0.85)):
        return escape_hatch(cat, name, name, pin)
    return resolve(cat, name, "latest", pin)


def _source(cat: Catalog, rev: str, hashed: bool = True) -> Source:
    """How the lock records a nixpkgs revision: a stand-in set, or a tarball; with its
    hash only when `hashed` (something of it is evaluated: hashing a tarball means
    downloading it, which a lock by store path exists to avoid)."""
    r = cat.revisions[rev]
    local = cat.revision_dir(rev)
    if local is not None:
        return Source(nix.hash_path(local) if hashed else None, standin=rev)
    if not r.url:
        raise BadInput(f"catalog revision {rev} has neither a path nor a url")
    return Source(nix.prefetch_tarball(r.url) if hashed else None, url=r.url, rev=r.rev or rev)


def _sources(packages: dict[str, Package], old: Lock | None, cat: Catalog,
             systems: list[str]) -> dict[str, Source]:
    """Each revision the packages use; hashed only if one of its packages must be
    evaluated on one of `systems` (an escape hatch, or no store paths in the catalog).
    A revision the old lock hashed keeps its hash (no download)."""
    evaluated = {p.nixpkgs for n, p in packages.items() if p.version is None
                 or any(compose.catalog_paths(cat, n, p, s) is None for s in systems)}
    out = {}
    for rev in sorted({p.nixpkgs for p in packages.values()}):
        was = old.nixpkgs.get(rev) if old else None
        if was is not None and (was.sha256 or rev not in evaluated):
            out[rev] = was
        else:
            out[rev] = _source(cat, rev, hashed=rev in evaluated)
    return out


def _check_hatches(lk: Lock, cat: Catalog, opts: nix.Options,
                   notes: list[str] | None = None) -> Lock:
    """Attributes chosen without a recorded version (escape hatches, and choices made by
    attribute name) must exist; their version goes into the lock, held to the request."""
    hatches = {n: p for n, p in lk.packages.items() if p.version is None}
    packages = dict(lk.packages)
    for rev in sorted({p.nixpkgs for p in hatches.values()}):
        group = {n: [p.attr] for n, p in hatches.items() if p.nixpkgs == rev}
        found = catalog_mod.versions_of(_template_source(cat, rev, lk.nixpkgs[rev]), group, opts)
        for name, attrs in group.items():
            version = found.get(name, {}).get(attrs[0])
            if version is None:
                raise BadInput(f"{name}: attribute {attrs[0]!r} is not in nixpkgs revision "
                               f"{rev} (or has no version)",
                               hint="check the name with `nix search`, or pin another "
                                    "revision with nixpkgs = \"...\"")
            if note := checked(name, packages[name].request, str(version)):
                (notes if notes is not None else []).append(note)
            packages[name] = replace(packages[name], version=str(version))
    return replace(lk, packages=packages)


def unvouched(lk: Lock, cat: Catalog, allowed: list[str]) -> list[str]:
    """The package sets a lock names that zagi cannot vouch for: not a revision of the
    catalog (the shipped one, or the user's ZAGI_NIXPKGS) at the URL the catalog records,
    and not allowed by the user. Evaluating one runs its code as the user."""
    out = []
    for rev, src in sorted(lk.nixpkgs.items()):
        known = cat.revisions.get(rev)
        if src.standin is not None:
            ok = src.standin == rev and known is not None and cat.revision_dir(rev) is not None
            what = f"stand-in set {src.standin!r}"
        else:
            ok = known is not None and known.url is not None and src.url == known.url
            what = str(src.url)
        if not ok and what not in allowed:
            out.append(what)
    return out


def allowed_sources(extra: list[str]) -> list[str]:
    """Package-set URLs the user allows beyond the catalog: --allow-source, and
    `[nixpkgs] allowed_sources` in their own config.toml (never a repo's)."""
    from zagi.core import layout
    from zagi.formats import config

    path = layout.user_config()
    return [*extra, *config.strings(config.load(path), "nixpkgs", "allowed_sources", path)]


def check_build_sandbox(lk: Lock, cat: Catalog, unsandboxed_ok: bool) -> None:
    """A package set zagi does not vouch for (allowed by the user) builds its own
    derivations: only inside Nix's sandbox, unless the user says otherwise."""
    if unvouched(lk, cat, []) and not unsandboxed_ok and not nix.sandboxed():
        raise BadInput("this lock uses a package set outside the catalog, and Nix here builds "
                       "without its sandbox (sandbox = false): its builders would run with "
                       "your files in reach", file=str(lk.path),
                       hint="enable `sandbox = true` in nix.conf, or accept the risk with "
                            "--allow-unsandboxed")


def vouch(lk: Lock, cat: Catalog, allowed: list[str]) -> None:
    """Refuse, before any evaluation, a lock naming a package set zagi cannot vouch for."""
    bad = unvouched(lk, cat, allowed)
    if bad:
        raise BadInput(
            f"the lock names {len(bad)} package set(s) zagi cannot vouch for: {', '.join(bad)}; "
            "evaluating one would run its code as you, so nothing was evaluated",
            file=str(lk.path),
            hint="if you trust it: zagi sync --allow-source " + bad[0]
                 + "; or relock from the catalog: zagi lock")


def _here(lk: Lock, cat: Catalog, paths: compose.Paths, opts: nix.Options,
          progress: Progress, notes: list[str]) -> tuple[SystemLock, list[str]]:
    """This system's entry: its packages' paths fetched (or built from nixpkgs where no
    cache has them), composed, and the closure recorded. Also what Nix built; what the
    priority rule decided goes into `notes`."""
    built: list[str] = []

    def event(kind: str, path: str) -> None:
        if kind == "build":
            built.append(path)
        progress.event(kind, path)

    progress.plan(0, len(nix.invalid([p for ps in paths.values() for p in ps])))
    compose.realise_paths(lk, cat, paths, opts, event)
    drv, out = compose.derivation(lk, paths)
    nix.realise(drv, opts, on_event=event)
    notes.extend(compose.collisions(lk, paths))
    return SystemLock(out, tuple(nix.closure(out)), packages=paths), built


def _elsewhere(lk: Lock, system: str, paths: compose.Paths, notes: list[str]) -> SystemLock:
    """Another system's entry, from the caches Nix uses: its packages' closure, `partial`
    (the env itself is composed where it is used); just the paths when no cache has them."""
    from zagi.cache import upstream
    from zagi.core.errors import ZagiError

    out = compose.out_path(lk, paths, system)
    try:
        closure = upstream.closure(sorted({p for ps in paths.values() for p in ps}),
                                   nix.store_info())
    except ZagiError as exc:
        notes.append(f"{system}: recorded the output only, not its closure ({exc.message}); "
                     f"a sync there will record it")
        return SystemLock(out, packages=paths)
    return SystemLock(out, closure, partial=True, packages=paths)


@dataclass
class LockResult:
    lock: Lock
    changed: bool
    built: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _sticky(new: dict[str, Package], old: Lock | None, cat: Catalog,
            fresh: set[str] | bool) -> dict[str, Package]:
    """Keep each entry whose request did not change resolved as the old lock had it (while
    the catalog still has that revision), so adding uv never moves node; `fresh` names
    the entries to resolve anew (True: all of them, as `zagi update` does)."""
    if old is None or fresh is True:
        return new
    out = {}
    for name, pkg in new.items():
        was = old.packages.get(name)
        keep = (was is not None and name not in (fresh or set()) and was.kind == pkg.kind
                and was.request == pkg.request and was.nixpkgs in cat.revisions
                and was.nixpkgs in old.nixpkgs)
        # the bundle comes from attrs.toml as it is now, so an older lock gains cargo
        out[name] = (replace(was, with_attrs=bundled(name, was.attr))
                     if keep and was is not None else pkg)
    return out


def lock(project: Project, systems: list[str] | None, opts: nix.Options,
         progress: Progress | None = None, fresh: set[str] | bool = False) -> LockResult:
    progress = progress or Silent()
    from zagi.core import layout
    from zagi.core.fsutil import read_bounded

    digest = layout.spec_digest(read_bounded(project.env_toml, spec.MAX_SPEC_BYTES))
    s = spec.load(project.env_toml)
    cat = catalog_mod.load()
    choices = resolve_all(s, cat)  # resolution errors (exit 2) before any Nix work
    if not choices:
        raise BadInput("env.toml asks for no tools, system packages or services; nothing to lock",
                       file=str(project.env_toml),
                       hint="add one, e.g. `zagi add node@22`, or run `zagi init`")
    old = lockfile.read(project.lock) if project.lock.exists() else None
    packages = _sticky({name: Package(kind, c.request, c.version, c.attr, c.rev, c.with_attrs)
                        for name, (kind, c) in sorted(choices.items())}, old, cat, fresh)
    here = nix.current_system()
    new = Lock(
        spec_hash=spec_hash(s),
        nixpkgs=_sources(packages, old, cat, systems or [here]),
        packages=packages,
        env=dict(sorted(s.env.items())),
        systems={},
        spec_digest=digest,
        nixpkgs_config=s.nix.nixpkgs_config() if s.nix else {},
    )
    notes = [c.note for _, c in choices.values() if c.note]
    new = _check_hatches(new, cat, opts, notes)
    if old and old.same_env(new):
        new = replace(new, systems=dict(old.systems))  # same env: keep systems locked elsewhere
    built: list[str] = []
    if s.nix and (s.nix.flake or s.nix.shell):
        notes.append(f"[nix] {'flake' if s.nix.flake else 'shell'} is recorded only: zagi "
                     "locked the tools env.toml lists, not the repo's own Nix environment")
    for system in systems or [here]:
        kept = new.system(system)
        # always from the catalog (or evaluation), never from the old lock: a lock is
        # repository input, and its paths are what the env will be made of
        paths = compose.package_paths(new, cat, system, opts)
        if system == here:
            entry, built = _here(new, cat, paths, opts, progress, notes)
        elif kept is not None and kept.packages == paths and kept.closure:
            entry = kept  # keep a closure recorded there (or read from the caches before)
        else:
            entry = _elsewhere(new, system, paths, notes)
        new = new.with_system(system, entry)
    changed = old is None or old.canonical() != new.canonical()
    result = lockfile.write(project.lock, new) if changed else old
    assert result is not None
    return LockResult(result, changed, built, notes)


def relock_if_locked(root: Path) -> bool:
    """After an edit, bring env.lock along if the project has one (resolution errors: exit 2)."""
    proj = Project(root)
    if not proj.lock.exists():
        return False
    lock(proj, None, nix.Options())
    return True


def check(project: Project) -> list[str]:
    """What changed in env.toml since the lock ([] = in step). Reads only."""
    s = spec.load(project.env_toml)
    if not project.lock.exists() and not project.lock.is_symlink():
        raise NotLocked("this project has no env.lock yet", hint="run `zagi lock`")
    lk = lockfile.read(project.lock)
    if lk.spec_hash == spec_hash(s):
        return []
    locked = {n: p.request for n, p in lk.packages.items()}
    wanted: dict[str, str] = {n: parse_request(s.tool_version(n) or "latest").text for n in s.tools}
    wanted.update({n: "latest" for n in s.system.packages})
    wanted.update({n: parse_request(s.service(n).version).text for n in s.services})
    diffs = [f"{n}: added ({wanted[n]})" for n in sorted(set(wanted) - set(locked))]
    diffs += [f"{n}: removed (was {locked[n]})" for n in sorted(set(locked) - set(wanted))]
    diffs += [f"{n}: {locked[n]} -> {wanted[n]}" for n in sorted(set(wanted) & set(locked))
              if str(locked[n]) != str(wanted[n]) and not str(locked[n]).startswith("attr:")]
    return diffs or ["env.toml changed ([env], [nix] or tool options)"]
