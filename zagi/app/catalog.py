"""Use-cases behind `zagi catalog search` and `zagi catalog update`."""

from __future__ import annotations

from pathlib import Path

from nixgen import catalog
from nixgen.catalog import Catalog, Entry
from zagi.core import nix
from zagi.core.errors import BadInput
from zagi.core.names import did_you_mean
from zagi.core.versions import numeric


def search(name: str) -> list[Entry]:
    """Versions of `name`, newest first (newest revision first on equal versions)."""
    cat = catalog.load()
    entries = cat.packages.get(name)
    if not entries:
        raise BadInput(f"{name}: not in the catalog{did_you_mean(name, set(cat.packages))}")
    return sorted(entries, key=lambda e: (numeric(e.version), cat.revisions[e.rev].order),
                  reverse=True)


def update(checkouts: list[Path], out: Path) -> Catalog:
    return catalog.update(checkouts, out, nix.Options())
