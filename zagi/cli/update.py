"""`zagi update [NAME...]`: move locked versions forward (zagi/env/edit.py::update)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from zagi.cli.options import Json, ProjectDir, Verbose


def update(
    names: Annotated[list[str] | None, typer.Argument(
        metavar="[NAME]...", help="Tools, services or packages to update (default: all).")] = None,
    project: ProjectDir = Path(),
    json: Json = False,
    verbose: Verbose = False,
) -> None:
    """Resolve locked entries anew against the catalog and print what moved (old -> new).

    Every other relock (zagi add, zagi lock after an edit) keeps unchanged entries exactly
    as they were locked; this is the command that moves them."""
    from zagi.cli.output import console, emit_json
    from zagi.cli.progress import BuildProgress
    from zagi.drivers import nix
    from zagi.env import edit as use
    from zagi.project import find

    proj = find(project)
    with BuildProgress(console(stderr=True), "Updating env...") as bar:
        res, moved = use.update(proj, names or [], nix.Options(), bar)
    if json:
        emit_json({"env_id": res.lock.env_id, "changed": res.changed,
                   "updated": [{"name": n, "from": a, "to": b} for n, a, b in moved]})
        return
    con = console()
    for name, old, new in moved:
        con.print(f"{name}: {old} -> {new}", markup=False, highlight=False)
    if not moved:
        con.print("everything is already at the newest version the catalog allows", markup=False)
