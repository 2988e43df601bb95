"""`zagi diff`: the environment difference between two revisions (zagi/history/changes.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from zagi.cli.options import Json, ProjectDir, Verbose


def diff(
    old: Annotated[str | None, typer.Argument(metavar="[REV]",
                                              help="From (default: HEAD).")] = None,
    new: Annotated[str | None, typer.Argument(metavar="[REV]",
                                              help="To (default: the working copy).")] = None,
    project: ProjectDir = Path(),
    json: Json = False,
    verbose: Verbose = False,
) -> None:
    """What the environment gained, lost and changed between REV and REV (or the working
    copy): tools, versions, system packages, services, [env] variables, closure size."""
    from zagi import history
    from zagi.cli.output import console, emit_json
    from zagi.drivers import nix
    from zagi.history import changes, envdiff

    res = changes.diff(history.root_of(project), old, new, nix.current_system())
    if json:
        emit_json(res.to_json())
        return
    con = console()
    if not res.changes:
        con.print(f"no environment change between {res.old} and {res.new}", markup=False)
    for c in res.changes:
        con.print(envdiff.render(c), markup=False, highlight=False)
    a, b = res.closure_bytes
    if a is not None and b is not None and a != b:
        con.print(f"closure: {_size(a)} -> {_size(b)} ({'+' if b > a else '-'}{_size(abs(b - a))})",
                  markup=False)


def _size(n: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"
