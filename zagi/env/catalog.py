"""Use-cases behind `zagi catalog search`, `resolve` and `update`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nixgen import catalog
from nixgen.catalog import Catalog, Entry
from nixgen.facts import Report
from nixgen.resolve import Choice, resolve
from zagi.core.errors import BadInput
from zagi.core.names import did_you_mean
from zagi.core.versions import numeric
from zagi.drivers import nix


@dataclass(frozen=True)
class Line:
    line: str
    versions: list[str]  # newest first
    choice: Choice | None  # what `NAME = "LINE"` resolves to (None: pre-releases only)
    eol: str | None  # end of life, for an LTS line
    maintained: bool | None  # on the catalog's newest date; None: not an LTS line


def search(name: str) -> tuple[Catalog, list[Entry]]:
    """Versions of `name`, newest first (newest revision first on equal versions)."""
    cat = catalog.load()
    entries = cat.packages.get(name)
    if not entries:
        attrs = catalog.attrs_table().get(name, {}).get("attrs", [])
        if attrs:
            raise BadInput(f"{name}: the catalog records no versions of it yet; "
                           f"\"latest\" resolves to nixpkgs attribute {attrs[0]!r} of the "
                           "newest revision, and `zagi lock` reads its version from nixpkgs")
        raise BadInput(f"{name}: not in the catalog{did_you_mean(name, set(cat.packages))}")
    return cat, sorted(entries, key=lambda e: (numeric(e.version), len(e.outputs),
                                               cat.revisions[e.rev].order), reverse=True)


def lines(cat: Catalog, name: str, entries: list[Entry]) -> list[Line]:
    """`entries` (newest first) grouped by version line, newest line first."""
    grouped: dict[str, list[Entry]] = {}
    for e in entries:
        grouped.setdefault(cat.line_of(name, e.version), []).append(e)
    today = (cat.newest_date() or "")[:10]
    lts = cat.lts.get(name, {})
    out = []
    for line, group in grouped.items():
        eol = lts.get(line)
        maintained = None if eol is None else (not today or eol > today)
        try:
            choice: Choice | None = resolve(cat, name, line)
        except BadInput:
            choice = None
        out.append(Line(line, list(dict.fromkeys(e.version for e in group)), choice, eol,
                        maintained))
    return sorted(out, key=lambda ln: numeric(ln.line), reverse=True)


def choose(text: str) -> tuple[Catalog, Choice]:
    """`node@20` (or `node 20`, `node`) -> the choice a lock would make."""
    name, _, request = text.partition("@")
    cat = catalog.load()
    return cat, resolve(cat, name.strip(), request.strip() or "latest")


def update(checkouts: list[Path], facts: list[Path], out: Path,
           systems: list[str] | None = None) -> tuple[Catalog, Report | None]:
    """Evaluate nixpkgs checkouts with Nix, or build from facts files; not both."""
    if bool(checkouts) == bool(facts):
        raise BadInput("give either --nixpkgs CHECKOUT... or --facts FILE...")
    if facts:
        if systems:
            raise BadInput("--paths-for is for --nixpkgs: facts carry their own paths")
        return catalog.update_from_facts(facts, out)
    return catalog.update(checkouts, out, nix.Options(),
                          [nix.check_system(s) for s in systems or []]), None
