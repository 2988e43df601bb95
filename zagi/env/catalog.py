"""Use-cases behind `zagi catalog search` and `zagi catalog update`."""

from __future__ import annotations

from pathlib import Path

from nixgen import catalog
from nixgen.catalog import Catalog, Entry
from zagi.core.errors import BadInput
from zagi.core.names import did_you_mean
from zagi.core.versions import numeric
from zagi.drivers import nix


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
    return cat, sorted(entries, key=lambda e: (numeric(e.version), cat.revisions[e.rev].order),
                       reverse=True)


def update(checkouts: list[Path], facts: Path | None, out: Path) -> Catalog:
    """Evaluate nixpkgs checkouts with Nix, or build from a facts file; not both."""
    if bool(checkouts) == (facts is not None):
        raise BadInput("give either --nixpkgs CHECKOUT... or --facts FILE")
    if facts is not None:
        return catalog.update_from_facts(facts, out)
    return catalog.update(checkouts, out, nix.Options())
