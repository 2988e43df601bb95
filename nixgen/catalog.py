"""The version catalog: which nixpkgs revision carries which version under which attribute.

Two sources, one format (docs/catalog.md):
- the catalog shipped in the package (nixgen/data/catalog.json), for real nixpkgs, built
  by `zagi catalog update --facts` from recorded facts (nixgen/data/catalog-facts.toml);
- with ZAGI_NIXPKGS=DIR, DIR/catalog.json, made by `zagi catalog update --nixpkgs` from
  the package sets under DIR (the stand-in set in fixtures/nixpkgs for tests and demos).
"""

from __future__ import annotations

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

from zagi.core.errors import BadInput, ZagiError
from zagi.core.fsutil import atomic_write
from zagi.core.versions import numeric
from zagi.drivers import git, nix

FORMAT = 1
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


@dataclass
class Catalog:
    revisions: dict[str, Revision]
    packages: dict[str, list[Entry]]
    base: Path | None = None  # directory of a local catalog: revision paths are relative to it
    lts: dict[str, list[str]] = field(default_factory=dict)

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
    return parse(text, str(path), base)


def parse(text: str, source: str, base: Path | None) -> Catalog:
    try:
        raw = json.loads(text)
        if raw.get("format") != FORMAT:
            raise ValueError(f"format {raw.get('format')!r}, expected {FORMAT}")
        revs = {r["id"]: Revision(r["id"], i, r.get("path"), r.get("url"), r.get("rev"),
                                  r.get("branch"), r.get("date"))
                for i, r in enumerate(raw["revisions"])}
        pkgs: dict[str, list[Entry]] = {}
        for name, entries in raw["packages"].items():
            pkgs[name] = [Entry(name, e["version"], e["attr"], e["rev"], e.get("source"))
                          for e in entries]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ZagiError(f"{source}: not a valid zagi catalog ({exc})") from None
    lts = {n: list(v.get("lts", [])) for n, v in attrs_table().items()}
    return Catalog(revs, pkgs, base, lts)


def versions_of(source: dict[str, str], attrs: dict[str, list[str]],
                opts: nix.Options) -> dict[str, dict[str, str]]:
    """{name: {attr: version}} for the attributes that exist (and are versioned) in `source`."""
    template = Path(str(resources.files("nixgen").joinpath("templates/versions.nix")))
    with tempfile.TemporaryDirectory(prefix="zagi-versions-") as tmp:
        query = Path(tmp) / "query.json"
        query.write_text(json.dumps({"source": source, "attrs": attrs}))
        found: dict[str, dict[str, str]] = nix.eval_json(template, {"query": str(query)}, {}, opts)
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


def update(checkouts: list[Path], out: Path, opts: nix.Options) -> Catalog:
    """Evaluate each nixpkgs checkout (oldest first) and write a catalog to `out`.

    Only the attributes in nixgen/data/attrs.toml are evaluated; each missing or
    broken one is skipped. A git checkout is recorded as its commit (fetched by
    `zagi lock` from GitHub's archive, dated by its commit time); any other directory
    as a path relative to `out`'s directory (the stand-in sets).
    """
    wanted = {name: spec["attrs"] for name, spec in attrs_table().items()}
    revisions: list[dict[str, Any]] = []
    packages: dict[str, list[dict[str, str]]] = {}
    for checkout in checkouts:
        if not (checkout / "default.nix").exists():
            raise BadInput(f"{checkout}: not a nixpkgs checkout (no default.nix)")
        git = _git_revision(checkout)
        rev_id = git["id"] if git else checkout.name
        found = versions_of({"path": str(checkout.resolve())}, wanted, opts)
        revisions.append(git or {"id": rev_id, "path": os.path.relpath(
            checkout.resolve(), out.parent.resolve())})
        for name, by_attr in sorted(found.items()):
            for attr, version in sorted(by_attr.items()):
                packages.setdefault(name, []).append(
                    {"version": str(version), "attr": attr, "rev": rev_id})
    doc = {"format": FORMAT, "revisions": revisions,
           "packages": {k: sorted(v, key=lambda e: (numeric(e["version"]), e["rev"], e["attr"]))
                        for k, v in sorted(packages.items())}}
    atomic_write(out, json.dumps(doc, indent=2, sort_keys=True) + "\n")
    return parse(out.read_text(), str(out), out.parent.resolve())


# --- the shipped catalog, from recorded facts ---------------------------------------

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_FACT_KEYS = {"attr": True, "version": True, "rev": True, "date": True, "source": True,
              "out": False}


def _fact_lines(text: str) -> list[int]:
    """1-based line of each [[fact]] header, in order, so errors can point at a fact."""
    return [i for i, line in enumerate(text.splitlines(), start=1)
            if line.strip().startswith("[[fact]]")]


def _check_fact(fact: dict[str, Any], names_of: dict[str, list[str]]) -> str | None:
    """What is wrong with one fact, or None."""
    for key, required in _FACT_KEYS.items():
        if required and not isinstance(fact.get(key), str):
            return f"missing or non-string {key!r}"
    if unknown := sorted(set(fact) - set(_FACT_KEYS)):
        return f"unknown key(s) {', '.join(unknown)} (expected {', '.join(_FACT_KEYS)})"
    if not _REV.fullmatch(fact["rev"]):
        return f"rev {fact['rev']!r} is not a 40-hex-digit nixpkgs commit"
    if not _DATE.fullmatch(fact["date"]):
        return f"date {fact['date']!r} is not UTC ISO 8601 (YYYY-MM-DDTHH:MM:SSZ)"
    if fact["attr"] not in names_of:
        return (f"attribute {fact['attr']!r} serves no zagi name; add it to a name's attrs "
                "in nixgen/data/attrs.toml")
    out = fact.get("out")
    if out is not None and not str(out).endswith("-" + fact["version"]):
        return (f"version {fact['version']!r} disagrees with the output path {out!r} "
                "(its name must end in -VERSION)")
    return None


def build_from_facts(text: str, source: str) -> dict[str, Any]:
    """The catalog document (format 1) that a facts file describes; BadInput on a bad fact."""
    try:
        facts = tomllib.loads(text).get("fact", [])
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"{source}: not valid TOML ({exc})") from None
    if not isinstance(facts, list):
        raise BadInput(f"{source}: `fact` must be an array of tables ([[fact]] sections)")
    lines = _fact_lines(text)
    names_of: dict[str, list[str]] = {}
    for name, spec in attrs_table().items():
        for attr in spec["attrs"]:
            names_of.setdefault(attr, []).append(name)
    revs: dict[str, dict[str, str]] = {}
    packages: dict[str, list[dict[str, str]]] = {}
    seen: dict[tuple[str, str], str] = {}
    for i, fact in enumerate(facts):
        where = f"{source}:{lines[i] if i < len(lines) else '?'}"
        if not isinstance(fact, dict) or (problem := _check_fact(fact, names_of)):
            raise BadInput(f"{where}: fact {i + 1}: {problem or 'not a table'}")
        key = (fact["attr"], fact["rev"])
        if seen.get(key, fact["version"]) != fact["version"]:
            raise BadInput(f"{where}: fact {i + 1}: {fact['attr']} at {fact['rev'][:12]} is "
                           f"already recorded as {seen[key]}, not {fact['version']}")
        seen[key] = fact["version"]
        rid = fact["rev"][:12]
        known = revs.setdefault(rid, {"id": rid, "rev": fact["rev"], "date": fact["date"],
                                      "url": NIXPKGS_ARCHIVE.format(rev=fact["rev"])})
        if known["date"] != fact["date"]:
            raise BadInput(f"{where}: fact {i + 1}: revision {rid} was dated "
                           f"{known['date']} by an earlier fact, not {fact['date']}")
        for name in names_of[fact["attr"]]:
            entry = {"version": fact["version"], "attr": fact["attr"], "rev": rid,
                     "source": fact["source"]}
            if entry not in packages.setdefault(name, []):
                packages[name].append(entry)
    ordered = sorted(revs.values(), key=lambda r: (r["date"], r["rev"]))  # oldest first
    return {"format": FORMAT, "revisions": ordered,
            "packages": {k: sorted(v, key=lambda e: (numeric(e["version"]), e["rev"], e["attr"]))
                         for k, v in sorted(packages.items())}}


def update_from_facts(facts: Path, out: Path) -> Catalog:
    """Write the catalog that `facts` describes to `out` (atomically)."""
    try:
        text = facts.read_text()
    except OSError as exc:
        raise BadInput(f"{facts}: cannot read ({exc.strerror})") from None
    doc = build_from_facts(text, str(facts))
    atomic_write(out, json.dumps(doc, indent=2, sort_keys=True) + "\n")
    return parse(out.read_text(), str(out), None)
