"""`zagi catalog search|update`: what versions exist, and regenerating the catalog."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

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
    """Show the versions of NAME the catalog knows, newest first."""
    from zagi.cli.output import console, emit_json
    from zagi.env import catalog

    cat, rows = catalog.search(name)
    if json:
        emit_json({"name": name, "versions": [
            {"version": e.version, "attr": e.attr, "nixpkgs": e.rev,
             "date": cat.revisions[e.rev].date, "source": e.source} for e in rows]})
        return
    for e in rows:
        date = (cat.revisions[e.rev].date or "")[:10]
        console().print(f"{e.version:<12} {e.attr:<24} {e.rev:<14} {date}".rstrip(),
                        markup=False, highlight=False)


@app.command("update")
def update(
    out: Annotated[Path, typer.Option("--out", help="Catalog file to write.")],
    nixpkgs: Annotated[list[Path] | None, typer.Option(
        "--nixpkgs", help="A nixpkgs checkout to evaluate, oldest first (repeatable).")] = None,
    facts: Annotated[Path | None, typer.Option(
        "--facts", help="Build from recorded facts instead (nixgen/data/catalog-facts.toml).")
    ] = None,
    json: Json = False,
    verbose: Verbose = False,
) -> None:
    """Regenerate a catalog (maintainers): evaluate nixpkgs checkouts with Nix, or build
    the shipped catalog from its recorded facts."""
    from zagi.cli.output import console, emit_json
    from zagi.env import catalog
    cat = catalog.update(nixpkgs or [], facts, out)
    n = sum(len(v) for v in cat.packages.values())
    if json:
        emit_json({"out": str(out), "revisions": list(cat.revisions), "entries": n})
    else:
        console().print(f"wrote {out}: {len(cat.revisions)} revision(s), {n} entries",
                        markup=False)
