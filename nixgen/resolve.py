"""Turn a version request into one concrete choice from the catalog.

"20" -> newest 20.x; ">=20" -> newest satisfying; "3.12.1" -> exactly that (error if no
revision carries it); "lts" -> newest on an LTS major; "latest"/"stable"/"*" -> newest.
Ties on version go to the newest revision, then the most specific attribute
(nodejs_20 over nodejs), which keeps a lock stable as aliases move.
"""

from __future__ import annotations

from dataclasses import dataclass

from nixgen.catalog import Catalog, Entry
from zagi.core.errors import BadInput
from zagi.core.names import did_you_mean
from zagi.core.versions import RequestError, allows, numeric, parse_request


@dataclass(frozen=True)
class Choice:
    name: str
    request: str
    version: str | None
    attr: str
    rev: str


def _best(entries: list[Entry], catalog: Catalog) -> Entry:
    return max(entries, key=lambda e: (numeric(e.version), catalog.revisions[e.rev].order,
                                       len(e.attr)))


def _available(entries: list[Entry]) -> str:
    versions = sorted({e.version for e in entries}, key=numeric)
    return ", ".join(versions) if versions else "none"


def resolve(catalog: Catalog, name: str, request: str, rev: str | None = None) -> Choice:
    entries = catalog.packages.get(name)
    if not entries:
        raise BadInput(f"{name}: not in the version catalog{did_you_mean(name, set(catalog.packages))}",
                       hint="for a package outside the catalog write "
                            f'{name} = {{ attr = "<nixpkgs attribute>" }}')
    if rev is not None:
        if rev not in catalog.revisions:
            raise BadInput(f"{name}: nixpkgs revision {rev!r} is not in the catalog "
                           f"(known: {', '.join(catalog.revisions)})")
        entries = [e for e in entries if e.rev == rev]
    try:
        req = parse_request(request)
    except RequestError as exc:
        raise BadInput(f"{name}: {exc}") from None
    if req.kind == "alias":
        if req.text == "lts":
            majors = catalog.lts.get(name)
            if not majors:
                raise BadInput(f"{name}: has no LTS releases in the catalog; use a version")
            matching = [e for e in entries if str(numeric(e.version)[:1][0]) in majors]
        elif req.text in ("latest", "stable", "*"):
            matching = list(entries)
        else:
            raise BadInput(f"{name} {request!r}: nixpkgs has no {req.text} builds; "
                           f"available: {_available(entries)}")
    else:
        matching = [e for e in entries if allows(req, e.version)]
    if not matching:
        raise BadInput(f"{name} {request!r}: no version in the catalog matches; "
                       f"available: {_available(entries)}"
                       + (f" (in revision {rev})" if rev else ""))
    best = _best(matching, catalog)
    return Choice(name, req.text, best.version, best.attr, best.rev)


def escape_hatch(catalog: Catalog, name: str, attr: str, rev: str | None) -> Choice:
    """`{ attr = "...", nixpkgs = "REV" }`: the attribute as given, from REV or the newest."""
    if rev is not None and rev not in catalog.revisions:
        raise BadInput(f"{name}: nixpkgs revision {rev!r} is not in the catalog "
                       f"(known: {', '.join(catalog.revisions)})")
    newest = max(catalog.revisions.values(), key=lambda r: r.order).id
    return Choice(name, f"attr:{attr}", None, attr, rev or newest)
