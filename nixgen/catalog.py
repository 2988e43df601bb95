"""The version catalog: which nixpkgs revision carries which version under which attribute.

Two sources, one format (docs/catalog.md):
- the catalog shipped in the package (nixgen/data/catalog.json), for real nixpkgs, built
  by `zagi catalog update --facts` from harvested facts (nixgen/facts/facts.jsonl);
- with ZAGI_NIXPKGS=DIR, DIR/catalog.json, made by `zagi catalog update --nixpkgs` from
  the package sets under DIR (the stand-in set in fixtures/nixpkgs for tests and demos).
"""

from __future__ import annotations

import functools
import json
import os
import re
import tempfile
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from nixgen import facts
from zagi.core.errors import BadInput, ZagiError
from zagi.core.fsutil import atomic_write
from zagi.core.versions import numeric
from zagi.drivers import git, nix

FORMAT = 1  # what `update --nixpkgs` writes; the facts builder writes format 2
FORMATS = (1, 2)
NIXPKGS_ARCHIVE = "https://github.com/NixOS/nixpkgs/archive/{rev}.tar.gz"
_REV = re.compile(r"[0-9a-f]{40}")


@dataclass(frozen=True)
class Revision:
    id: str
    order: int  # higher = newer
    path: str | None = None  # a local package set (stand-in), relative to the catalog
    url: str | None = None  # a nixpkgs tarball (real)
    rev: str | None = None
    branch: str | None = None
    date: str | None = None


@dataclass(frozen=True)
class Entry:
    name: str
    version: str
    attr: str
    rev: str
    source: str | None = None  # where the fact was read (shipped catalog only)
    # system -> output -> store path, when a lock file recorded them (shipped catalog)
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass
class Catalog:
    revisions: dict[str, Revision]
    packages: dict[str, list[Entry]]
    base: Path | None = None  # directory of a local catalog: revision paths are relative to it
    lts: dict[str, dict[str, str]] = field(default_factory=dict)  # name -> line -> end of life
    lines: dict[str, int] = field(default_factory=dict)  # name -> components in a line
    # harvested (format 2): records what lock files happened to pin, so a line it lacks
    # may still be in nixpkgs; an evaluated catalog lists every attribute it has
    partial: bool = False

    def newest_date(self) -> str | None:
        """The newest revision's date: the day the catalog speaks for (the `lts` rule)."""
        dates = [r.date for r in self.revisions.values() if r.date]
        return max(dates) if dates else None

    def line_of(self, name: str, version: str) -> str:
        """The version line `version` is on: 20.11.1 -> "20" (node), 3.12.4 -> "3.12"
        (python); a 0.x version always counts two components (uv 0.5, zig 0.13)."""
        parts = numeric(version)
        depth = self.lines.get(name, 1) if parts[:1] != (0,) else 2
        return ".".join(map(str, parts[:depth])) or version

    def revision_dir(self, rev: str) -> Path | None:
        r = self.revisions[rev]
        return (self.base / r.path).resolve() if r.path and self.base else None

    def find_revision(self, text: str) -> str | None:
        """The id of the revision `text` names: its id, its full commit, or a unique
        commit prefix of at least 7 characters (what `git log --oneline` shows)."""
        if text in self.revisions:
            return text
        hits = {r.id for r in self.revisions.values()
                if r.rev and len(text) >= 7 and r.rev.startswith(text.lower())}
        return hits.pop() if len(hits) == 1 else None


@functools.cache
def attrs_table() -> dict[str, dict[str, Any]]:
    text = resources.files("nixgen").joinpath("data/attrs.toml").read_text()
    return tomllib.loads(text)


def standin_dir() -> Path | None:
    val = os.environ.get("ZAGI_NIXPKGS")
    return Path(val).resolve() if val else None


def load() -> Catalog:
    base = standin_dir()
    if base is not None:
        path = base / "catalog.json"
        if not path.exists():
            raise BadInput(f"ZAGI_NIXPKGS={base} has no catalog.json",
                           hint=f"zagi catalog update --nixpkgs {base}/<rev> ... --out {path}")
        text = path.read_text()
    else:
        path = Path("nixgen/data/catalog.json")
        text = resources.files("nixgen").joinpath("data/catalog.json").read_text()
    cat = parse(text, str(path), base)
    return with_overlay(cat, overlay_path())


def overlay_path() -> Path:
    from zagi.core import layout

    return layout.catalog_overlay()


MAX_OVERLAY_BYTES = 16 << 20


def with_overlay(cat: Catalog, path: Path) -> Catalog:
    """The catalog with the user's overlay (channels evaluated here) after it: its
    revisions count as newer, its entries join the names they serve. None on disk: as is."""
    from zagi.core.fsutil import read_bounded

    if not path.exists():
        return cat
    raw = read_bounded(path, MAX_OVERLAY_BYTES)
    extra = parse(raw.decode("utf-8", "replace"), str(path), None)
    offset = len(cat.revisions)
    for r in extra.revisions.values():
        cat.revisions[r.id] = Revision(r.id, offset + r.order, r.path, r.url, r.rev, r.branch,
                                       r.date)
    for name in list(extra.packages):
        cat.packages[name] = [*(cat.packages.get(name) or []), *extra.packages[name]]
    return cat


def parse(text: str, source: str, base: Path | None) -> Catalog:
    try:
        raw = json.loads(text)
        if raw.get("format") not in FORMATS:
            raise ValueError(f"format {raw.get('format')!r}, expected one of {FORMATS}")
        revs = {r["id"]: Revision(r["id"], i, r.get("path"), r.get("url") or _archive(r),
                                  r.get("rev"), r.get("branch"), r.get("date"))
                for i, r in enumerate(raw["revisions"])}
        pkgs = _Packages(raw["packages"], source)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ZagiError(f"{source}: not a valid zagi catalog ({exc})") from None
    table = attrs_table()
    lts = {n: {str(k): str(v) for k, v in spec.get("lts", {}).items()}
           for n, spec in table.items() if spec.get("lts")}
    lines = {n: int(spec["line"]) for n, spec in table.items() if "line" in spec}
    return Catalog(revs, pkgs, base, lts, lines, partial=raw["format"] == 2)


class _Packages(dict[str, list[Entry]]):
    """name -> entries, each name's entries made on first use: `zagi lock` asks for a
    handful of the catalog's names, and making all 1,200 entries was a third of its
    load time. A malformed entry fails when its name is used, with the same error."""

    def __init__(self, raw: dict[str, list[dict[str, Any]]], source: str) -> None:
        if not isinstance(raw, dict):
            raise TypeError("packages is not an object")
        super().__init__({name: [] for name in raw})  # placeholders; made on first use
        self._raw, self._source = raw, source

    def __getitem__(self, name: str) -> list[Entry]:
        if name in self._raw:
            try:
                made = [Entry(name, e["version"], e["attr"], e["rev"], e.get("source"),
                              e.get("outputs") or {}) for e in self._raw.pop(name)]
            except (KeyError, TypeError, AttributeError) as exc:
                raise ZagiError(f"{self._source}: not a valid zagi catalog (entry of "
                                f"{name}: {exc})") from None
            super().__setitem__(name, made)
        return super().__getitem__(name)

    def get(self, name: str, default: Any = None) -> Any:
        return self[name] if name in self else default  # noqa: SIM401 - dict.get skips __getitem__

    def values(self) -> Any:
        return [self[n] for n in self]

    def items(self) -> Any:
        return [(n, self[n]) for n in self]


def _archive(raw: dict[str, Any]) -> str | None:
    """A dated commit without a url is fetched from GitHub's archive (format 2 leaves the
    url out: it is the same for every revision)."""
    rev = raw.get("rev")
    return NIXPKGS_ARCHIVE.format(rev=rev) if rev and not raw.get("path") else None


def versions_of(source: dict[str, str], attrs: dict[str, list[str]],
                opts: nix.Options, systems: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """{name: {attr: version}} for the attributes that exist (and are versioned) in
    `source`; with `systems`, {name: {attr: {system: {output: path}}}} instead."""
    template = Path(str(resources.files("nixgen").joinpath("templates/versions.nix")))
    with tempfile.TemporaryDirectory(prefix="zagi-versions-") as tmp:
        query = Path(tmp) / "query.json"
        query.write_text(json.dumps({"source": source, "attrs": attrs,
                                     "installed": list(facts.KEPT_OUTPUTS)}))
        found: dict[str, dict[str, Any]] = nix.eval_json(
            template, {"query": str(query)},
            {"systems": json.dumps(systems)} if systems else {}, opts)
    return found


def _git_revision(checkout: Path) -> dict[str, str] | None:
    """A nixpkgs git checkout as a fetchable, dated revision: {id, rev, date, url[, branch]}.

    Only when `checkout` is itself the top of a git work tree (the stand-in sets live
    inside zagi's own repository and must stay local paths).
    """
    if not (checkout / ".git").exists():
        return None
    head = git.commit_info(checkout)
    if head is None or not _REV.fullmatch(head[0]):
        raise BadInput(f"{checkout}: a git checkout without a readable HEAD commit")
    rev, when = head
    date = datetime.fromisoformat(when).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    doc = {"id": rev[:12], "rev": rev, "date": date, "url": NIXPKGS_ARCHIVE.format(rev=rev)}
    if branch := git.branch(checkout):
        doc["branch"] = branch
    return doc


def update(checkouts: list[Path], out: Path, opts: nix.Options,
           systems: list[str] | None = None) -> Catalog:
    """Evaluate each nixpkgs checkout (oldest first) and write a catalog to `out`.

    Only the attributes in nixgen/data/attrs.toml are evaluated; each missing or
    broken one is skipped. A git checkout is recorded as its commit (fetched by
    `zagi lock` from GitHub's archive, dated by its commit time); any other directory
    as a path relative to `out`'s directory (the stand-in sets). With `systems`, each
    entry records its output paths there too (evaluated, not built), so locks of it
    go by store path.
    """
    wanted = {name: spec["attrs"] for name, spec in attrs_table().items()}
    revisions: list[dict[str, Any]] = []
    packages: dict[str, list[dict[str, Any]]] = {}
    for checkout in checkouts:
        if not (checkout / "default.nix").exists():
            raise BadInput(f"{checkout}: not a nixpkgs checkout (no default.nix)")
        git = _git_revision(checkout)
        rev_id = git["id"] if git else checkout.name
        source = {"path": str(checkout.resolve())}
        found = versions_of(source, wanted, opts)
        paths = versions_of(source, wanted, opts, systems) if systems else {}
        revisions.append(git or {"id": rev_id, "path": os.path.relpath(
            checkout.resolve(), out.parent.resolve())})
        for name, by_attr in sorted(found.items()):
            for attr, version in sorted(by_attr.items()):
                entry: dict[str, Any] = {"version": str(version), "attr": attr, "rev": rev_id}
                if outs := paths.get(name, {}).get(attr):
                    entry["outputs"] = outs
                packages.setdefault(name, []).append(entry)
    doc = {"format": FORMAT, "revisions": revisions,
           "packages": {k: sorted(v, key=lambda e: (numeric(e["version"]), e["rev"], e["attr"]))
                        for k, v in sorted(packages.items())}}
    atomic_write(out, json.dumps(doc, indent=2, sort_keys=True) + "\n")
    return parse(out.read_text(), str(out), out.parent.resolve())


# --- the shipped catalog, from harvested facts (nixgen/facts.py) ----------------------

def names_of_attrs() -> dict[str, list[str]]:
    """attribute -> the zagi names it serves (attrs.toml read the other way round)."""
    out: dict[str, list[str]] = {}
    for name, spec in attrs_table().items():
        for attr in spec["attrs"]:
            out.setdefault(attr, []).append(name)
    return out


def update_from_facts(paths: list[Path], out: Path) -> tuple[Catalog, facts.Report]:
    """Write the catalog that the facts in `paths` describe to `out` (atomically)."""
    doc, report = facts.build(paths, names_of_attrs())
    text = facts.dump(doc)
    atomic_write(out, text)
    return parse(text, str(out), None), report
