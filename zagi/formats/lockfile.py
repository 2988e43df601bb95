"""`.zagi/env.lock`: the resolved, content-hashed environment (format: docs/env-lock.md).

Parsed into typed records at read, and every field's type checked there, so nothing
above this module indexes into raw JSON or meets an AttributeError on a hostile file.
Written as canonical JSON (sorted keys, two-space indent, trailing newline) so diffs are
small and the env id (sha256 of exactly these bytes, zagi/core/layout.py) is the same on
every machine for the same lock. Reading never rewrites; writing is atomic.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from zagi.core.envnames import reserved_reason
from zagi.core.errors import BadInput
from zagi.core.fsutil import atomic_write, read_bounded
from zagi.core.layout import env_id_of

__all__ = ["LOCK_VERSION", "Lock", "Package", "PathInfo", "Source", "SystemLock", "canonical",
           "read", "write"]

LOCK_VERSION = 1
MAX_LOCK_BYTES = 64 << 20
_STORE = "/nix/store/"


@dataclass(frozen=True)
class PathInfo:
    """One store path of a closure, as Nix reports it and the lock pins it."""

    path: str
    nar_hash: str  # "sha256:<nix32>"
    nar_size: int

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "narHash": self.nar_hash, "narSize": self.nar_size}


@dataclass(frozen=True)
class Source:
    """A locked nixpkgs: a stand-in set by name, or a tarball URL with its revision; with
    the sha256 (nix32) of its unpacked contents when a package of it had to be evaluated
    (None: every package of it is locked by store path, and nothing was downloaded to
    hash it; a build from it is then checked by the paths it gives)."""

    sha256: str | None
    standin: str | None = None
    url: str | None = None
    rev: str | None = None

    def to_json(self) -> dict[str, Any]:
        out = {"sha256": self.sha256, "standin": self.standin, "url": self.url, "rev": self.rev}
        return {k: v for k, v in out.items() if v is not None}


@dataclass(frozen=True)
class Package:
    """One tool, system package or service: what was asked, what it resolved to."""

    kind: str  # "tool" | "system" | "service"
    request: str
    version: str | None  # None only before an escape hatch's version is read
    attr: str
    nixpkgs: str  # a key of Lock.nixpkgs
    # attributes installed with `attr` from the same revision (rust = rustc + cargo)
    with_attrs: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "request": self.request,
                               "version": self.version, "attr": self.attr, "nixpkgs": self.nixpkgs}
        if self.with_attrs:
            out["with"] = list(self.with_attrs)
        return out

    @property
    def attrs(self) -> tuple[str, ...]:
        return (self.attr, *self.with_attrs)


@dataclass(frozen=True)
class SystemLock:
    """The env's output on one system and its closure: every path, where it was built;
    with `partial`, every path but `out` itself, read from the narinfos of the caches
    Nix uses (locked from another system, never built there). No closure: evaluated
    only, its packages in no cache Nix uses."""

    out: str
    closure: tuple[PathInfo, ...] | None = None
    partial: bool = False
    # name -> the store paths of its installed outputs on this system: the env is these,
    # composed by Nix's builtin buildenv (none: a lock from before; the env is nixpkgs'
    # buildEnv of the package set, evaluated)
    packages: dict[str, tuple[str, ...]] | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"out": self.out}
        if self.closure is not None:
            out["closure"] = [p.to_json() for p in self.closure]
        if self.partial:
            out["partial"] = True
        if self.packages is not None:
            out["packages"] = {k: list(v) for k, v in sorted(self.packages.items())}
        return out


@dataclass(frozen=True)
class Lock:
    spec_hash: str
    nixpkgs: dict[str, Source]
    packages: dict[str, Package]
    env: dict[str, str]
    systems: dict[str, SystemLock]
    lock_version: int = LOCK_VERSION
    path: Path | None = field(default=None, compare=False)
    # sha256 of the env.toml bytes locked: equal means "in step" without parsing env.toml
    # (pydantic costs ~150 ms on every clone); unequal means "compare spec_hash".
    spec_digest: str | None = None
    # nixpkgs' `config` as env.toml's [nix] asks (allowUnfree, permittedInsecurePackages)
    nixpkgs_config: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "lock_version": self.lock_version,
            "spec_hash": self.spec_hash,
            "nixpkgs": {k: v.to_json() for k, v in self.nixpkgs.items()},
            "packages": {k: v.to_json() for k, v in self.packages.items()},
            "env": dict(self.env),
            "systems": {k: v.to_json() for k, v in self.systems.items()},
            **({"spec_digest": self.spec_digest} if self.spec_digest else {}),
            **({"nixpkgs_config": dict(self.nixpkgs_config)} if self.nixpkgs_config else {}),
        }

    def canonical(self) -> bytes:
        return canonical(self.to_json())

    @property
    def env_id(self) -> str:
        """The env id on this machine's system (layout.env_id_of says what it covers)."""
        return env_id_of(self.canonical())

    def env_id_for(self, system: str) -> str:
        return env_id_of(self.canonical(), system)

    def system(self, system: str) -> SystemLock | None:
        return self.systems.get(system)

    def same_env(self, other: Lock) -> bool:
        """Same request and resolution (systems aside): the same env, recorded elsewhere."""
        return (self.spec_hash, self.nixpkgs, self.packages, self.env, self.nixpkgs_config) == \
               (other.spec_hash, other.nixpkgs, other.packages, other.env, other.nixpkgs_config)

    def with_system(self, system: str, entry: SystemLock) -> Lock:
        return replace(self, systems={**self.systems, system: entry})


def canonical(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def read(path: Path) -> Lock:
    """Parse and check a lock; anything wrong is BadInput naming the field."""
    raw = read_bounded(path, MAX_LOCK_BYTES, hint="run `zagi lock`")
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        raise BadInput(f"not valid JSON ({exc.msg if hasattr(exc, 'msg') else exc}); "
                       "expected a lock written by `zagi lock`", file=str(path), line=line,
                       hint="regenerate it with `zagi lock`") from None
    except RecursionError:
        raise BadInput("nested too deeply; expected a lock written by `zagi lock`",
                       file=str(path), hint="regenerate it with `zagi lock`") from None
    return parse(data, str(path), path)


def write(path: Path, lock: Lock) -> Lock:
    atomic_write(path, lock.canonical())
    return replace(lock, path=path)


# --- parsing: one small checker per record ------------------------------------------


class _Reader:
    def __init__(self, file: str) -> None:
        self.file = file

    def bad(self, where: str, expected: str) -> BadInput:
        return self.say(f"{where}: expected {expected}")

    def say(self, what: str) -> BadInput:
        return BadInput(f"{what}; this is not a lock written by `zagi lock`", file=self.file,
                        hint="regenerate it with `zagi lock`")

    def obj(self, v: Any, where: str) -> dict[str, Any]:
        if not isinstance(v, dict):
            raise self.bad(where, "an object")
        return v

    def text(self, v: Any, where: str, prefix: str = "") -> str:
        if not isinstance(v, str) or len(v) > 4096:
            raise self.bad(where, "a string")
        if not v.startswith(prefix):
            raise self.say(f"{where} is not a store path" if prefix == _STORE
                           else f"{where}: expected a string starting with {prefix!r}")
        return v

    def keys(self, d: dict[str, Any], where: str, required: set[str], optional: set[str]) -> None:
        missing = sorted(required - set(d))
        if missing:
            raise self.say(f"{where + ': ' if where else ''}missing {missing[0]!r}")
        unknown = sorted(set(d) - required - optional)
        if unknown:
            raise self.bad(f"{where}.{unknown[0]}" if where else unknown[0], "no such key")


def parse(data: Any, file: str, path: Path | None = None) -> Lock:
    r = _Reader(file)
    d = r.obj(data, "the lock")
    if d.get("lock_version") != LOCK_VERSION:
        raise r.say(f"lock_version {d.get('lock_version')!r} is not {LOCK_VERSION}")
    r.keys(d, "", {"lock_version", "spec_hash", "nixpkgs", "packages", "systems"},
           {"env", "spec_digest", "nixpkgs_config"})
    nixpkgs = {str(k): _source(r, v, f"nixpkgs.{k}") for k, v in r.obj(d["nixpkgs"], "nixpkgs").items()}
    packages = {str(k): _package(r, v, f"packages.{k}", nixpkgs)
                for k, v in r.obj(d["packages"], "packages").items()}
    env = {str(k): r.text(v, f"env.{k}") for k, v in r.obj(d.get("env", {}), "env").items()}
    for name in env:  # the lock is re-checked, not trusted because env.toml was checked
        if why := reserved_reason(name):
            raise r.say(f"env.{name}: {why}")
    systems = {str(k): _system(r, v, f"systems.{k}") for k, v in r.obj(d["systems"], "systems").items()}
    digest = r.text(d["spec_digest"], "spec_digest") if "spec_digest" in d else None
    return Lock(r.text(d["spec_hash"], "spec_hash"), nixpkgs, packages, env, systems, path=path,
                spec_digest=digest, nixpkgs_config=_config(r, d.get("nixpkgs_config", {})))


def _config(r: _Reader, v: Any) -> dict[str, Any]:
    """Only the two settings env.toml can ask for, with their types: nothing else of
    nixpkgs' config (which can hold Nix code, e.g. packageOverrides) comes from a lock."""
    d = r.obj(v, "nixpkgs_config")
    r.keys(d, "nixpkgs_config", set(), {"allowUnfree", "permittedInsecurePackages"})
    out: dict[str, Any] = {}
    if "allowUnfree" in d:
        if d["allowUnfree"] is not True:
            raise r.bad("nixpkgs_config.allowUnfree", "true (or absent)")
        out["allowUnfree"] = True
    if "permittedInsecurePackages" in d:
        names = d["permittedInsecurePackages"]
        if not isinstance(names, list) or not names:
            raise r.bad("nixpkgs_config.permittedInsecurePackages", "a non-empty list")
        out["permittedInsecurePackages"] = [
            r.text(n, f"nixpkgs_config.permittedInsecurePackages[{i}]")
            for i, n in enumerate(names)]
    return out


def _source(r: _Reader, v: Any, where: str) -> Source:
    d = r.obj(v, where)
    r.keys(d, where, set(), {"sha256", "standin", "url", "rev"})
    if ("standin" in d) == ("url" in d):
        raise r.bad(where, "either standin or url")
    opt = {k: r.text(d[k], f"{where}.{k}") for k in ("standin", "url", "rev") if k in d}
    return Source(r.text(d["sha256"], f"{where}.sha256") if "sha256" in d else None, **opt)


def _package(r: _Reader, v: Any, where: str, nixpkgs: dict[str, Source]) -> Package:
    d = r.obj(v, where)
    r.keys(d, where, {"kind", "request", "version", "attr", "nixpkgs"}, {"with"})
    if d["kind"] not in ("tool", "system", "service"):
        raise r.bad(f"{where}.kind", "tool, system or service")
    if d["nixpkgs"] not in nixpkgs:
        raise r.bad(f"{where}.nixpkgs", "a key of nixpkgs")
    version = None if d["version"] is None else r.text(d["version"], f"{where}.version")
    extra = d.get("with", [])
    if not isinstance(extra, list):
        raise r.bad(f"{where}.with", "a list of attribute names")
    return Package(d["kind"], r.text(d["request"], f"{where}.request"), version,
                   r.text(d["attr"], f"{where}.attr"), d["nixpkgs"],
                   tuple(r.text(a, f"{where}.with") for a in extra))


def _system(r: _Reader, v: Any, where: str) -> SystemLock:
    d = r.obj(v, where)
    r.keys(d, where, {"out"}, {"closure", "partial", "packages"})
    out = r.text(d["out"], f"{where}.out", _STORE)
    partial = d.get("partial", False)
    if not isinstance(partial, bool) or (partial and "closure" not in d):
        raise r.bad(f"{where}.partial", "true beside a closure, or absent")
    packages = _package_paths(r, d["packages"], f"{where}.packages") if "packages" in d else None
    if "closure" not in d:
        return SystemLock(out, packages=packages)
    items = d["closure"]
    if not isinstance(items, list):
        raise r.bad(f"{where}.closure", "a list")
    return SystemLock(out, tuple(_path_info(r, p, f"{where}.closure[{i}]")
                                 for i, p in enumerate(items)), partial, packages)


# A store path as it may reach a Nix expression: /nix/store/<32 nix32>-<name>, nothing more
STORE_PATH = re.compile(r"/nix/store/[0-9a-df-np-sv-z]{32}-[A-Za-z0-9+\-._?=]+")


def _package_paths(r: _Reader, v: Any, where: str) -> dict[str, tuple[str, ...]]:
    d = r.obj(v, where)
    out = {}
    for name, paths in d.items():
        if not isinstance(paths, list) or not paths:
            raise r.bad(f"{where}.{name}", "a non-empty list of store paths")
        for p in paths:
            if not isinstance(p, str) or not STORE_PATH.fullmatch(p):
                raise r.bad(f"{where}.{name}", "store paths (/nix/store/HASH-NAME)")
        out[str(name)] = tuple(paths)
    return out


def _path_info(r: _Reader, v: Any, where: str) -> PathInfo:
    d = r.obj(v, where)
    r.keys(d, where, {"path", "narHash", "narSize"}, set())
    size = d["narSize"]
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise r.bad(f"{where}.narSize", "a non-negative integer")
    return PathInfo(r.text(d["path"], f"{where}.path", _STORE),
                    r.text(d["narHash"], f"{where}.narHash", "sha256:"), size)
