"""Turn a version request into one concrete choice from the catalog.

"20" -> newest 20.x; ">=20" -> newest satisfying; "3.12.1" -> exactly that, or the
nearest of 3.12.x with a note naming both (exit 2 listing the nearest when the catalog
has no 3.12.x); "lts" -> newest on an LTS line still maintained on the catalog's newest
date; "latest"/"stable"/"*" -> newest. Ties on version go to the entry with store paths
for more systems (lockable without evaluating nixpkgs), then the newest revision, then
the most specific attribute (nodejs_20 over nodejs), which keeps a lock stable as
aliases move.

A name that attrs.toml maps to nixpkgs attributes but for which the catalog records no
version (common for system libraries) still resolves when no particular version is
asked for: its first attribute from the newest revision, with the version left for
`zagi lock` to read from nixpkgs itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nixgen.catalog import Catalog, Entry, attrs_table
from nixgen.facts import attr_line, on_line
from zagi.core.errors import BadInput
from zagi.core.names import did_you_mean
from zagi.core.versions import (
    Request,
    RequestError,
    allows,
    numeric,
    parse_request,
    prerelease,
)


@dataclass(frozen=True)
class Choice:
    name: str
    request: str
    version: str | None
    attr: str
    rev: str
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)  # system -> output -> path
    source: str | None = None
    note: str | None = None  # said to the user: what was asked is not exactly what was chosen
    with_attrs: tuple[str, ...] = ()  # installed with `attr` from the same revision (bundle)


def _best(entries: list[Entry], catalog: Catalog) -> Entry:
    return max(entries, key=lambda e: (numeric(e.version), len(e.outputs),
                                       catalog.revisions[e.rev].order, len(e.attr),
                                       _leads(e)))


def _leads(e: Entry) -> bool:
    """A bundle's first attribute is the one a lock names (rustc, with cargo)."""
    bundle = attrs_table().get(e.name, {}).get("bundle", [])
    return bool(bundle) and bundle[0] == e.attr


def _choice(name: str, request: str, e: Entry, note: str | None = None) -> Choice:
    return Choice(name, request, e.version, e.attr, e.rev, e.outputs, e.source, note,
                  bundled(name, e.attr))


def bundled(name: str, attr: str) -> tuple[str, ...]:
    """What a name's `bundle` (attrs.toml) installs beside the chosen attribute: a name
    that is several packages in nixpkgs (rust = rustc + cargo), all from one revision."""
    return tuple(a for a in attrs_table().get(name, {}).get("bundle", []) if a != attr)


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
    try:
        req = parse_request(request)
    except RequestError as exc:
        raise BadInput(f"{name}: {exc}") from None
    if not entries:
        attrs = attrs_table().get(name, {}).get("attrs", [])
        if attrs and (found := _by_attribute(catalog, name, req, rev, [])):
            return found
        extra = (f"; the catalog records no versions of {name}, so ask for \"latest\" or a "
                 "line an attribute names" if attrs else "")
        raise BadInput(f"{name}: not in the version catalog"
                       f"{did_you_mean(name, set(catalog.packages)) if not attrs else extra}",
                       hint="for a package outside the catalog write "
                            f'{name} = {{ attr = "<nixpkgs attribute>" }}')
    if rev is not None:
        entries = [e for e in entries if e.rev == rev]
    if req.kind == "alias":
        if req.text == "lts":
            matching = _lts(catalog, name, entries)
        elif req.text in _ANY:
            matching = list(entries)
        else:
            raise BadInput(f"{name} {request!r}: nixpkgs has no {req.text} builds; "
                           f"available: {_available(entries)}")
    else:
        matching = [e for e in entries if allows(req, e.version)]
    exact = req.kind == "version" and len(numeric(req.text)) >= 3
    if not matching and exact and any(numeric(e.version)[:2] == numeric(req.text)[:2]
                                      for e in entries if not prerelease(e.version)):
        return _nearest(catalog, name, req.text, entries, rev)
    if not matching and (found := _by_attribute(catalog, name, req, rev, entries)):
        return found
    if not matching and exact:
        return _nearest(catalog, name, req.text, entries, rev)  # exit 2, naming the nearest
    if not matching:
        raise BadInput(f"{name} {request!r}: no version in the catalog matches; "
                       f"available: {_available(entries)}"
                       + (f" (in revision {rev})" if rev else ""))
    return _choice(name, req.text, _best(matching, catalog))


def _by_attribute(catalog: Catalog, name: str, req: Request, rev: str | None,
                  entries: list[Entry]) -> Choice | None:
    """No fact answers the request, but nixpkgs' naming may: an attribute that promises
    the asked line (zig_0_15 for 0.15.1, erlang_26 for "26"), or, for a name the catalog
    records no version of at all, its generic attribute. Taken from the newest revision
    (or the pinned one) without a version: `zagi lock` reads the version from nixpkgs and
    `checked` holds it to the request."""
    attrs = attrs_table().get(name, {}).get("attrs", [])
    if not attrs or not catalog.revisions:
        return None
    if not catalog.partial:  # an evaluated catalog: what it lacks, nixpkgs lacks
        return (Choice(name, req.text, None, attrs[0], rev or _newest(catalog))
                if not entries and req.text in _ANY else None)
    chosen = None
    if req.kind == "version":
        # only for a line the catalog has no fact on: where it has some, what it lacks
        # is a release, and nixpkgs' newest build of that line is already recorded
        chosen = next((a for a in attrs if (line := attr_line(a)) and on_line(req.text, line)
                       and len(numeric(req.text)) >= len(numeric(line))
                       and not any(on_line(e.version, line) for e in entries)), None)
    if chosen is None and not entries and (req.kind != "alias" or req.text in _ANY):
        chosen = next((a for a in attrs if attr_line(a) is None), attrs[0])
    if chosen is None:
        return None
    where = rev or _newest(catalog)
    note = None if req.text in _ANY else (
        f"{name} {req.text}: no recorded fact; using nixpkgs attribute {chosen} of {where}, "
        "whose version `zagi lock` reads and checks")
    return Choice(name, req.text, None, chosen, where, note=note,
                  with_attrs=bundled(name, chosen))


def checked(name: str, request: str, version: str) -> str | None:
    """A version read from nixpkgs for a choice made by attribute (above): None when it
    meets the request, a note when it is another patch of an exact pin's minor; exit 2
    when it does not meet the request at all."""
    if request.startswith("attr:"):
        return None
    req = parse_request(request)
    if req.kind == "alias" or allows(req, version):
        return None
    want = numeric(req.text)
    if req.kind == "version" and len(want) >= 3 and numeric(version)[:2] == want[:2]:
        return f"{name} {request} is not what nixpkgs carries; using {version}, of the same minor"
    raise BadInput(f"{name} {request!r}: nixpkgs carries {version} under that attribute, "
                   "which does not meet the request",
                   hint=f"ask for {name} = \"{'.'.join(map(str, numeric(version)[:2]))}\", or pin "
                        "another revision with nixpkgs = \"...\"")


def _lts(catalog: Catalog, name: str, entries: list[Entry]) -> list[Entry]:
    """Entries on an LTS line whose end of life is after the catalog's newest date (a
    catalog without dates, such as the stand-in, counts every LTS line as maintained)."""
    lines = catalog.lts.get(name)
    if not lines:
        raise BadInput(f"{name}: has no LTS releases in the catalog; use a version")
    today = catalog.newest_date()
    kept = {line for line, eol in lines.items() if today is None or eol > today[:10]}
    matching = [e for e in entries if catalog.line_of(name, e.version) in kept]
    if not matching:
        raise BadInput(f"{name} 'lts': the catalog has no version on a maintained LTS line "
                       f"({', '.join(sorted(kept, key=numeric)) or 'none'} as of "
                       f"{(today or '?')[:10]}); available: {_available(entries)}")
    return matching


def _nearest(catalog: Catalog, name: str, wanted: str, entries: list[Entry],
             rev: str | None) -> Choice:
    """An exact pin the catalog lacks (.nvmrc 20.11.2): the nearest version of the same
    minor, said so; none of the same minor -> exit 2 naming the nearest there are."""
    want = numeric(wanted)
    released = [e for e in entries if not prerelease(e.version)]

    def distance(e: Entry) -> tuple[int, ...]:
        have = numeric(e.version)
        return tuple(abs(a - b) for a, b in zip(have + (0,) * 3, want + (0,) * 3, strict=False))

    same = [e for e in released if numeric(e.version)[:2] == want[:2]]
    if not same:
        closest = list(dict.fromkeys(e.version for e in sorted(released, key=distance)))
        near = sorted(closest[:5], key=numeric)
        raise BadInput(f"{name} {wanted!r}: the catalog has no {'.'.join(map(str, want[:2]))}.x"
                       + (f" (in revision {rev})" if rev else "")
                       + f"; nearest: {', '.join(near[:5]) or 'none'}",
                       hint=f"ask for one of those, or for the line: {name} = "
                            f'"{catalog.line_of(name, near[0]) if near else want[0]}"')
    patch = min(distance(e)[2] for e in same)
    best = _best([e for e in same if distance(e)[2] == patch], catalog)
    return _choice(name, wanted, best,
                   note=f"{name} {wanted} is not in the catalog; using {best.version}, the "
                        f"nearest {'.'.join(map(str, want[:2]))}.x it has")


def escape_hatch(catalog: Catalog, name: str, attr: str, rev: str | None) -> Choice:
    """`{ attr = "...", nixpkgs = "REV" }`: the attribute as given, from REV or the newest."""
    if rev is not None:
        rev = _revision(catalog, name, rev)
    return Choice(name, f"attr:{attr}", None, attr, rev or _newest(catalog))
