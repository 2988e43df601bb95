"""`zagi log`: git history with each commit's environment change (zagi/history/changes.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from zagi.cli.options import Json, ProjectDir, Verbose


def log(
    rev_range: Annotated[str | None, typer.Argument(
        metavar="[REV-RANGE]", help="What git log would show (default: HEAD).")] = None,
    n: Annotated[int, typer.Option("-n", "--max-count", help="How many commits.")] = 20,
    project: ProjectDir = Path(),
    json: Json = False,
    verbose: Verbose = False,
) -> None:
    """Show commits with what each changed in the environment (+postgres 16,
    node 20.11.1 -> 22.2.0, -bun, system +libgit2, [env] +APP_ENV); uncommitted env
    edits first, as @."""
    from zagi import history
    from zagi.cli.output import console, emit_json
    from zagi.history import changes, envdiff, provenance

    working, entries = changes.log(history.root_of(project), rev_range, n)
    if json:
        emit_json({"working": working.to_json() if working else None,
                   "commits": [e.to_json() for e in entries]})
        return
    con = console()
    if working is not None:
        con.print(f"@  (working copy)  {', '.join(map(envdiff.render, working.changes))}",
                  markup=False, highlight=False)
    for e in entries:
        con.print(f"o  {(e.sha or '')[:8]}  {e.author}: {e.subject}", markup=False,
                  highlight=False)
        if e.changes:
            con.print(f"   env: {', '.join(map(envdiff.render, e.changes))}", markup=False,
                      highlight=False)
        if e.note:
            con.print(f"   note: {provenance.summary(e.note)}", markup=False, highlight=False)
