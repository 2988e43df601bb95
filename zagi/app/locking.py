"""`zagi lock`: env.toml -> resolved choices -> evaluated (and, here, built) env -> env.lock."""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from nixgen import catalog as catalog_mod
from nixgen.catalog import Catalog
from nixgen.resolve import Choice, escape_hatch, resolve
from zagi.app.progress import Progress, Silent
from zagi.app.project import Project
from zagi.core import lock as lockfile
from zagi.core import nix, spec, store
from zagi.core.errors import BadInput
from zagi.core.spec import EnvSpec, ToolSpec
from zagi.core.versions import parse_request

ENV_NAME = "zagi-env"  # one name for every project, so identical envs share one store path
EXTRA_OUTPUTS = ["dev", "man"]


def spec_hash(s: EnvSpec) -> str:
    """Hash of what the env means (not of comments or order; not of the project name)."""
    data = s.model_dump(mode="json", by_alias=True, exclude={"project"})
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
        out[name] = ("system", resolve(cat, name, "latest", pin))
    for name, req in s.services.items():
        out[name] = ("service", resolve(cat, name, req, pin))
    return out


def _source(cat: Catalog, rev: str) -> dict[str, str]:
    """How the lock records a nixpkgs revision: a stand-in set, or a tarball with its hash."""
    r = cat.revisions[rev]
    local = cat.revision_dir(rev)
    if local is not None:
        return {"standin": rev, "sha256": nix.hash_path(local)}
    if not r.url:
        raise BadInput(f"catalog revision {rev} has neither a path nor a url")
    return {"url": r.url, "rev": r.rev or rev, "sha256": nix.prefetch_tarball(r.url)}


def _template_source(cat: Catalog, rev: str, src: dict[str, str]) -> dict[str, str]:
    """A locked nixpkgs source as the templates read it: a local path or a tarball + hash."""
    if "standin" in src:
        local = cat.revision_dir(src["standin"]) if src["standin"] in cat.revisions else None
        if local is None:
            raise BadInput(f"this lock uses the stand-in package set revision {rev!r}",
                           hint="set ZAGI_NIXPKGS to the stand-in set (fixtures/nixpkgs)")
        return {"path": str(local)}
    return {"url": src["url"], "sha256": src["sha256"]}


def _check_hatches(data: dict[str, Any], cat: Catalog, opts: nix.Options) -> None:
    """Escape-hatch attributes must exist; their version goes into the lock."""
    hatches = [(n, p) for n, p in data["packages"].items() if p["version"] is None]
    for rev in sorted({p["nixpkgs"] for _, p in hatches}):
        group = {n: [p["attr"]] for n, p in hatches if p["nixpkgs"] == rev}
        found = catalog_mod.versions_of(_template_source(cat, rev, data["nixpkgs"][rev]),
                                        group, opts)
        for name, attrs in group.items():
            version = found.get(name, {}).get(attrs[0])
            if version is None:
                raise BadInput(f"{name}: attribute {attrs[0]!r} is not in nixpkgs revision "
                               f"{rev} (or has no version)",
                               hint="check the name with `nix search`, or pin another "
                                    "revision with nixpkgs = \"...\"")
            data["packages"][name]["version"] = str(version)


def nix_data(lock_data: dict[str, Any], cat: Catalog) -> dict[str, Any]:
    """The JSON the static template reads, from a lock (so sync rebuilds exactly it)."""
    sources = {rev: _template_source(cat, rev, src) for rev, src in lock_data["nixpkgs"].items()}
    pkgs = lock_data["packages"]
    newest = max(sources, key=lambda r: cat.revisions[r].order if r in cat.revisions else -1)
    return {
        "name": ENV_NAME,
        "nixpkgs": sources,
        "packages": [{"nixpkgs": p["nixpkgs"], "attr": p["attr"].split(".")}
                     for _, p in sorted(pkgs.items())],
        "buildEnv": newest,
        "extraOutputs": EXTRA_OUTPUTS,
    }


def template() -> Path:
    return Path(str(resources.files("nixgen").joinpath("templates/env.nix")))


def evaluate(lock_data: dict[str, Any], cat: Catalog, system: str,
             opts: nix.Options) -> tuple[str, str]:
    """Instantiate the env for `system` without building: (derivation, output path)."""
    with tempfile.TemporaryDirectory(prefix="zagi-gen-") as tmp:
        data_file = Path(tmp) / "env.json"
        data_file.write_text(json.dumps(nix_data(lock_data, cat), sort_keys=True))
        return nix.instantiate(template(), {"data": str(data_file)}, {"system": system}, opts)


@dataclass
class LockResult:
    lock: lockfile.Lock
    changed: bool
    built: list[str] = field(default_factory=list)


def lock(project: Project, systems: list[str] | None, opts: nix.Options,
         progress: Progress | None = None) -> LockResult:
    progress = progress or Silent()
    s = spec.load(project.env_toml)
    cat = catalog_mod.load()
    choices = resolve_all(s, cat)  # resolution errors (exit 2) before any Nix work
    revs = sorted({c.rev for _, c in choices.values()})
    data: dict[str, Any] = {
        "lock_version": lockfile.LOCK_VERSION,
        "spec_hash": spec_hash(s),
        "nixpkgs": {rev: _source(cat, rev) for rev in revs},
        "packages": {name: {"kind": kind, "request": c.request, "version": c.version,
                            "attr": c.attr, "nixpkgs": c.rev}
                     for name, (kind, c) in sorted(choices.items())},
        "env": dict(sorted(s.env.items())),
        "systems": {},
    }
    _check_hatches(data, cat, opts)
    old = lockfile.read(project.lock) if project.lock.exists() else None
    if old and all(old.data.get(k) == data[k] for k in ("spec_hash", "nixpkgs", "packages", "env")):
        data["systems"] = dict(old.data["systems"])  # same env: keep systems locked elsewhere
    here = store.nix_system()
    built: list[str] = []
    for system in systems or [here]:
        drv, out = evaluate(data, cat, system, opts)
        entry: dict[str, Any] = {"out": out}
        if system == here:
            built, fetched = nix.would_build(drv, opts)
            progress.plan(len(built), len(fetched))
            nix.realise(drv, opts, on_event=progress.event)
            entry["closure"] = [{"path": p.path, "narHash": p.nar_hash, "narSize": p.nar_size}
                                for p in nix.closure(out)]
        elif data["systems"].get(system, {}).get("out") == out:
            entry = data["systems"][system]  # keep a closure recorded where it was built
        data["systems"][system] = entry
    raw = lockfile.canonical(data)
    changed = old is None or lockfile.canonical(old.data) != raw
    result = lockfile.write(project.lock, data) if changed else old
    assert result is not None
    return LockResult(result, changed, built)


def check(project: Project) -> list[str]:
    """What changed in env.toml since the lock ([] = in step). Reads only."""
    s = spec.load(project.env_toml)
    lk = lockfile.read(project.lock)
    if lk.spec_hash == spec_hash(s):
        return []
    locked = {n: p.get("request") for n, p in lk.packages().items()}
    wanted: dict[str, str] = {n: parse_request(s.tool_version(n) or "latest").text for n in s.tools}
    wanted.update({n: "latest" for n in s.system.packages})
    wanted.update({n: parse_request(r).text for n, r in s.services.items()})
    diffs = [f"{n}: added ({wanted[n]})" for n in sorted(set(wanted) - set(locked))]
    diffs += [f"{n}: removed (was {locked[n]})" for n in sorted(set(locked) - set(wanted))]
    diffs += [f"{n}: {locked[n]} -> {wanted[n]}" for n in sorted(set(wanted) & set(locked))
              if str(locked[n]) != str(wanted[n]) and not str(locked[n]).startswith("attr:")]
    return diffs or ["env.toml changed ([env], [nix] or tool options)"]
