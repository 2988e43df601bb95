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
    from nixgen import catalog
    from zagi.cli.output import console, emit_json
    from zagi.core.errors import BadInput
    from zagi.core.names import did_you_mean
    from zagi.core.versions import numeric

    cat = catalog.load()
    entries = cat.packages.get(name)
    if not entries:
        raise BadInput(f"{name}: not in the catalog{did_you_mean(name, set(cat.packages))}")
    rows = sorted(entries, key=lambda e: (numeric(e.version), cat.revisions[e.rev].order),
                  reverse=True)
    if json:
        emit_json({"name": name, "versions": [{"version": e.version, "attr": e.attr,
                                               "nixpkgs": e.rev} for e in rows]})
        return
    for e in rows:
        console().print(f"{e.version:<12} {e.attr:<20} {e.rev}", markup=False, highlight=False)


@app.command("update")
def update(
    nixpkgs: Annotated[list[Path], typer.Option(
        "--nixpkgs", help="A nixpkgs checkout to evaluate, oldest first (repeatable).")],
    out: Annotated[Path, typer.Option("--out", help="Catalog file to write.")],
    json: Json = False,
    verbose: Verbose = False,
) -> None:
    """Regenerate a catalog by evaluating nixpkgs checkouts with Nix (maintainers)."""
    from nixgen import catalog
    from zagi.cli.output import console, emit_json, setup_logging
    from zagi.core import nix

    setup_logging(verbose)
    cat = catalog.update(nixpkgs, out, nix.Options())
    n = sum(len(v) for v in cat.packages.values())
    if json:
        emit_json({"out": str(out), "revisions": list(cat.revisions), "entries": n})
    else:
        console().print(f"wrote {out}: {len(cat.revisions)} revision(s), {n} entries",
                        markup=False)
