"""`zagi catalog search|resolve|update`: what versions exist, what a request picks, and
regenerating the catalog."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from zagi.cli.options import Json, Verbose

app = typer.Typer(help="The version catalog: which nixpkgs revision carries which version.",
                  no_args_is_help=True, rich_markup_mode=None)


@app.command("search")
def search(
    name: Annotated[str, typer.Argument(help="A tool, library or service name, e.g. node.")],
    json: Json = False,
    verbose: Verbose = False,
) -> None:
    """Show the version lines and versions of NAME the catalog knows, newest first
    (--verbose: every entry with its attribute, revision, date and source)."""
    from zagi.cli.output import console, emit_json
    from zagi.env import catalog

    cat, rows = catalog.search(name)
    lines = catalog.lines(cat, name, rows)
    if json:
        emit_json({"name": name, "lines": [
            {"line": ln.line, "versions": ln.versions, "lts": ln.eol is not None,
             "eol": ln.eol, "maintained": ln.maintained,
             "resolves_to": ln.choice.version if ln.choice else None} for ln in lines],
            "versions": [
            {"version": e.version, "attr": e.attr, "nixpkgs": e.rev,
             "date": cat.revisions[e.rev].date, "source": e.source,
             "systems": sorted(e.outputs)} for e in rows]})
        return
    out = console()
    if verbose:
        for e in rows:
            date = (cat.revisions[e.rev].date or "")[:10]
            systems = ",".join(sorted(e.outputs)) or "-"
            out.print(f"{e.version:<12} {e.attr:<24} {e.rev:<14} {date:<10} {systems}"
                      f"  {e.source or ''}".rstrip(), markup=False, highlight=False)
        return
    for ln in lines:
        tag = "" if ln.eol is None else (" LTS" if ln.maintained else " LTS, end of life")
        shown = ", ".join(ln.versions[:8]) + (f" (+{len(ln.versions) - 8})"
                                              if len(ln.versions) > 8 else "")
        out.print(f"{name} {ln.line:<6} {shown}{tag}", markup=False, highlight=False)


def choice_doc(cat: Any, c: Any) -> dict[str, Any]:
    """A choice as --json shows it (docs/cli.md, `zagi catalog resolve`)."""
    r = cat.revisions[c.rev]
    return {"name": c.name, "request": c.request, "version": c.version, "attr": c.attr,
            "nixpkgs": c.rev, "commit": r.rev, "date": r.date, "url": r.url,
            "outputs": c.outputs, "source": c.source, "note": c.note}


@app.command("resolve")
def resolve(
    request: Annotated[str, typer.Argument(
        help='NAME@REQUEST, e.g. node@20, python@3.12.1, java@lts; NAME alone means latest.')],
    json: Json = False,
    verbose: Verbose = False,
) -> None:
    """Show what a request resolves to: version, nixpkgs commit and date, attribute,
    output store paths per system, and the lock file the fact came from."""
    from zagi.cli.output import console, emit_json
    from zagi.env import catalog

    cat, c = catalog.choose(request)
    doc = choice_doc(cat, c)
    if json:
        emit_json(doc)
        return
    if c.note:
        console(stderr=True).print(f"note: {c.note}", markup=False, highlight=False)
    out = console()
    for key in ("name", "version", "attr", "commit", "date", "source"):
        out.print(f"{key:<8} {doc[key] or '-'}", markup=False, highlight=False)
    if not c.outputs:
        out.print("outputs  none recorded: `zagi lock` evaluates nixpkgs for this one",
                  markup=False, highlight=False)
    for system, outs in sorted(c.outputs.items()):
        for output, path in sorted(outs.items()):
            out.print(f"{system:<15} {output:<4} {path}", markup=False, highlight=False)


@app.command("update")
def update(
    out: Annotated[Path | None, typer.Option(
        "--out", help="Catalog file to write (with --nixpkgs or --facts).")] = None,
    channel: Annotated[str | None, typer.Option(
        "--channel", metavar="NAME",
        help="Download that channel's package set once (nixos-25.11, nixpkgs-unstable), "
             "evaluate it, and add it to your catalog overlay under $ZAGI_HOME.")] = None,
    nixpkgs: Annotated[list[Path] | None, typer.Option(
        "--nixpkgs", help="A nixpkgs checkout to evaluate, oldest first (repeatable).")] = None,
    facts: Annotated[list[Path] | None, typer.Option(
        "--facts", help="Build from harvested facts (JSON Lines, repeatable), e.g. "
                        "nixgen/facts/facts.jsonl.")] = None,
    paths_for: Annotated[list[str] | None, typer.Option(
        "--paths-for", metavar="SYSTEM",
        help="With --nixpkgs: record each entry's output store paths on SYSTEM too "
             "(repeatable), so locks of it go by store path.")] = None,
    json: Json = False,
    verbose: Verbose = False,
) -> None:
    """Refresh the catalog: --channel NAME adds a channel's current release to your
    overlay (needs the network once). Maintainers: evaluate nixpkgs checkouts with Nix,
    or build the shipped catalog from harvested facts (checked; a contradiction exits 2
    with FILE:LINE and writes nothing)."""
    from zagi.cli.output import console, emit_json
    from zagi.core.errors import BadInput
    from zagi.env import catalog

    if channel is not None:
        if nixpkgs or facts or out or paths_for:
            raise BadInput("--channel stands alone: it writes your overlay, not --out")
        cat, rid = catalog.update_channel(channel)
        entries = sum(1 for v in cat.packages.values() for e in v if e.rev == rid)
        from zagi.core import layout

        if json:
            emit_json({"channel": channel, "revision": rid, "url": cat.revisions[rid].url,
                       "entries": entries, "overlay": str(layout.catalog_overlay())})
        else:
            console().print(f"added {rid} ({entries} entries) to {layout.catalog_overlay()}",
                            markup=False)
        return
    if out is None:
        raise BadInput("--out FILE is needed with --nixpkgs or --facts")
    cat, report = catalog.update(nixpkgs or [], facts or [], out, paths_for)
    n = sum(len(v) for v in cat.packages.values())
    skipped = sum(report.skipped.values()) if report else 0
    if json:
        emit_json({"out": str(out), "revisions": len(cat.revisions), "entries": n,
                   "facts": report.facts if report else None, "skipped": skipped,
                   "bytes": out.stat().st_size})
        return
    console().print(f"wrote {out}: {len(cat.revisions)} revision(s), {n} entries"
                    + (f" from {report.facts} facts ({skipped} for attributes attrs.toml "
                       "does not map, skipped)" if report else ""), markup=False)
