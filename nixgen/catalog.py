"""The version catalog: which nixpkgs revision carries which version under which attribute.

Two sources, one format (docs/catalog.md):
- the catalog shipped in the package (nixgen/data/catalog.json), for real nixpkgs;
- with ZAGI_NIXPKGS=DIR, DIR/catalog.json, made by `zagi catalog update` from the
  package sets under DIR (the stand-in set in fixtures/nixpkgs for tests and demos).
"""

from __future__ import annotations

import json
import os
import tempfile
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from zagi.core import nix
from zagi.core.errors import BadInput, ZagiError
from zagi.core.fsutil import atomic_write
from zagi.core.versions import numeric

FORMAT = 1


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


@dataclass
class Catalog:
    revisions: dict[str, Revision]
    packages: dict[str, list[Entry]]
    base: Path | None = None  # directory of a local catalog: revision paths are relative to it
    lts: dict[str, list[str]] = field(default_factory=dict)

    def revision_dir(self, rev: str) -> Path | None:
        r = self.revisions[rev]
        return (self.base / r.path).resolve() if r.path and self.base else None


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
            pkgs[name] = [Entry(name, e["version"], e["attr"], e["rev"]) for e in entries]
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


def update(checkouts: list[Path], out: Path, opts: nix.Options) -> Catalog:
    """Evaluate each nixpkgs checkout (oldest first) and write a catalog to `out`.

    Only the attributes in nixgen/data/attrs.toml are evaluated; each missing or
    broken one is skipped. Revision paths are stored relative to `out`'s directory.
    """
    wanted = {name: spec["attrs"] for name, spec in attrs_table().items()}
    revisions: list[dict[str, Any]] = []
    packages: dict[str, list[dict[str, str]]] = {}
    for checkout in checkouts:
        if not (checkout / "default.nix").exists():
            raise BadInput(f"{checkout}: not a nixpkgs checkout (no default.nix)")
        rev_id = checkout.name
        found = versions_of({"path": str(checkout.resolve())}, wanted, opts)
        revisions.append({"id": rev_id,
                          "path": os.path.relpath(checkout.resolve(), out.parent.resolve())})
        for name, by_attr in sorted(found.items()):
            for attr, version in sorted(by_attr.items()):
                packages.setdefault(name, []).append(
                    {"version": str(version), "attr": attr, "rev": rev_id})
    doc = {"format": FORMAT, "revisions": revisions,
           "packages": {k: sorted(v, key=lambda e: (numeric(e["version"]), e["rev"], e["attr"]))
                        for k, v in sorted(packages.items())}}
    atomic_write(out, json.dumps(doc, indent=2, sort_keys=True) + "\n")
    return parse(out.read_text(), str(out), out.parent.resolve())
