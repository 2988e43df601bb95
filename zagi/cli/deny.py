"""`zagi deny`: revoke the shell hook's trust in this project (zagi/env/trust.py)."""

from __future__ import annotations

from pathlib import Path

import typer

from zagi.cli.options import Json, ProjectDir, Verbose


def deny(project: ProjectDir = Path(), json: Json = False, verbose: Verbose = False) -> None:
    """Revoke trust: the shell hook will no longer activate this project."""
    from zagi.cli.output import emit_json
    from zagi.env import trust
    from zagi.project import find

    proj = find(project)
    n = trust.deny(proj)
    if json:
        emit_json({"denied": str(proj.root), "removed": n})
    else:
        typer.echo(f"denied {proj.root}")
