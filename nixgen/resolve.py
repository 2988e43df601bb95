"""Turn a version request into one concrete choice from the catalog.

"20" -> newest 20.x; ">=20" -> newest satisfying; "3.12.1" -> exactly that (error if no
revision carries it); "lts" -> newest on an LTS major; "latest"/"stable"/"*" -> newest.
Ties on version go to the newest revision, then the most specific attribute
(nodejs_20 over nodejs), which keeps a lock stable as aliases move.

A name that attrs.toml maps to nixpkgs attributes but for which the catalog records no
version (common for system libraries) still resolves when no particular version is
asked for: its first attribute from the newest revision, with the version left for
`zagi lock` to read from nixpkgs itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from nixgen.catalog import Catalog, Entry, attrs_table
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


_ANY = ("latest", "stable", "*")


def _revision(catalog: Catalog, name: str, rev: str) -> str:
    found = catalog.find_revision(rev)
    if found is None:
        newest = sorted(catalog.revisions.values(), key=lambda r: -r.order)[:5]
        known = ", ".join(f"{r.id} ({r.date[:10]})" if r.date else r.id for r in newest)
        more = len(catalog.revisions) - len(newest)
        raise BadInput(f"{name}: nixpkgs revision {rev!r} is not in the catalog "
                       f"(newest known: {known}{f', and {more} older' if more > 0 else ''})",
                       hint="`zagi catalog search NAME` lists the revisions that carry NAME")
    return found


def _newest(catalog: Catalog) -> str:
    return max(catalog.revisions.values(), key=lambda r: r.order).id


def resolve(catalog: Catalog, name: str, request: str, rev: str | None = None) -> Choice:
    entries = catalog.packages.get(name)
    rev = _revision(catalog, name, rev) if rev is not None else None
    if not entries:
        attrs = attrs_table().get(name, {}).get("attrs", [])
        if attrs and request.strip() in _ANY and catalog.revisions:
            return Choice(name, request.strip(), None, attrs[0], rev or _newest(catalog))
        extra = (f"; the catalog records no versions of {name}, so ask for \"latest\""
                 if attrs else "")
        raise BadInput(f"{name}: not in the version catalog"
                       f"{did_you_mean(name, set(catalog.packages)) if not attrs else extra}",
                       hint="for a package outside the catalog write "
                            f'{name} = {{ attr = "<nixpkgs attribute>" }}')
    if rev is not None:
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
        elif req.text in _ANY:
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
    if rev is not None:
        rev = _revision(catalog, name, rev)
    return Choice(name, f"attr:{attr}", None, attr, rev or _newest(catalog))
