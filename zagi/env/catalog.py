"""Use-cases behind `zagi catalog search`, `resolve` and `update`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
            raise BadInput(f"{name}: the catalog records no versions of it yet; a request "
                           f"for it resolves to nixpkgs attribute {attrs[0]!r} of the newest "
                           "revision, and `zagi lock` reads its version from nixpkgs")
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
        raise BadInput("give one of --nixpkgs CHECKOUT..., --facts FILE... or --channel NAME")
    if facts:
        if systems:
            raise BadInput("--paths-for is for --nixpkgs: facts carry their own paths")
        return catalog.update_from_facts(facts, out)
    return catalog.update(checkouts, out, nix.Options(),
                          [nix.check_system(s) for s in systems or []]), None


CHANNELS = "https://channels.nixos.org"  # ZAGI_CHANNELS_URL: a mirror, or a test's server
MAX_REVISION_BYTES = 200


def channel_base() -> str:
    import os

    return os.environ.get("ZAGI_CHANNELS_URL", CHANNELS).rstrip("/")


def update_channel(name: str) -> tuple[Catalog, str]:
    """`zagi catalog update --channel NAME`: download that channel's package set once
    (Nix fetches and unpacks it), evaluate attrs.toml's attributes with their output
    paths for this system, and add the revision to the user's overlay. (catalog, id)"""
    import json
    import re
    from datetime import UTC, datetime

    from zagi.core import layout
    from zagi.core.fsutil import atomic_write, read_bounded

    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{0,63}", name):
        raise BadInput(f"{name!r} is not a channel name (e.g. nixos-25.11, nixpkgs-unstable)")
    url, rev = _channel_release(f"{channel_base()}/{name}")
    sha256 = nix.prefetch_tarball(url)
    source = {"url": url, "sha256": sha256}
    wanted = {n: spec["attrs"] for n, spec in catalog.attrs_table().items()}
    opts = nix.Options()
    versions = catalog.versions_of(source, wanted, opts)
    paths = catalog.versions_of(source, wanted, opts, [nix.current_system()])
    rid = f"{name}-{(rev or sha256)[:12]}"
    revision = {"id": rid, "url": url, "branch": name,
                "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    if rev:
        revision["rev"] = rev
    overlay = layout.catalog_overlay()
    doc: dict[str, Any] = {"format": 1, "revisions": [], "packages": {}}
    if overlay.exists():
        catalog.load()  # reads the overlay: a broken one is a clear error, not a traceback
        doc = json.loads(read_bounded(overlay, catalog.MAX_OVERLAY_BYTES))
    doc["revisions"] = [r for r in doc["revisions"] if r["id"] != rid] + [revision]
    for pkg, by_attr in versions.items():
        kept = [e for e in doc["packages"].get(pkg, []) if e["rev"] != rid]
        for attr, version in sorted(by_attr.items()):
            entry = {"version": str(version), "attr": attr, "rev": rid}
            if outs := paths.get(pkg, {}).get(attr):
                entry["outputs"] = outs
            kept.append(entry)
        doc["packages"][pkg] = kept
    overlay.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(overlay, json.dumps(doc, indent=1, sort_keys=True) + "\n")
    return catalog.load(), rid


def _channel_release(channel: str) -> tuple[str, str | None]:
    """A channel URL moves with every release: follow it to the release it names now
    (what a lock must pin), and read that release's git revision when it has one."""
    import re

    import httpx

    try:
        with httpx.Client(follow_redirects=True, timeout=30) as client:
            head = client.head(f"{channel}/nixexprs.tar.xz")
            head.raise_for_status()
            url = str(head.url)
            got = client.get(url.rsplit("/", 1)[0] + "/git-revision")
    except httpx.HTTPError as exc:
        raise BadInput(f"cannot reach the channel {channel} ({exc})",
                       hint="check the network, or ZAGI_CHANNELS_URL for a mirror") from None
    text = got.text[:MAX_REVISION_BYTES].strip() if got.status_code == 200 else ""
    return url, text if re.fullmatch(r"[0-9a-f]{40}", text) else None
