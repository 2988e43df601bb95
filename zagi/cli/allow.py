"""`zagi allow`: trust this project's env in the shell hook (zagi/env/trust.py)."""

from __future__ import annotations

from pathlib import Path

import typer

from zagi.cli.options import Json, ProjectDir, Verbose


def allow(project: ProjectDir = Path(), json: Json = False, verbose: Verbose = False) -> None:
    """Trust this project: the shell hook will activate its current env."""
    from zagi.cli.output import emit_json
    from zagi.env import trust
    from zagi.project import find

    proj = find(project)
    ids = trust.allow(proj)
    if json:
        emit_json({"allowed": str(proj.root), "env_ids": ids})
    else:
        typer.echo(f"allowed {proj.root} (env {', '.join(i[:12] for i in ids)})")
