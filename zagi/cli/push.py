"""`zagi push`: source and env to a bucket (zagi/server/push.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from zagi.cli.options import Json, ProjectDir, Verbose


def push(
    remote: Annotated[str, typer.Argument(help="A zagi:: remote (git remote add origin "
                                               "zagi::s3://BUCKET/PREFIX/NAME).")] = "origin",
    refspecs: Annotated[list[str] | None, typer.Argument(
        help="What to push, as for git push (default: the current branch).")] = None,
    key: Annotated[str | None, typer.Option("--key", help="Signing key name for the env.")] = None,
    project: ProjectDir = Path(),
    json: Json = False,
    verbose: Verbose = False,
) -> None:
    """git push to a bucket remote, then the pushed commit's env, signed, to the binary
    cache in the same bucket (and the provenance notes), so `zagi clone s3://...` gets
    source and env from one place."""
    from zagi import history
    from zagi.cli.output import emit_json
    from zagi.server import push as use

    res = use.push(history.root_of(project), remote, refspecs or [], key)
    if json:
        emit_json({"remote": res.remote, "url": res.url, "cache": res.cache,
                   "env_id": res.env_id, "uploaded": res.uploaded, "notes": res.notes})
        return
    for line in res.git_report.splitlines():
        if line.startswith(("\t", "*", "+", "-", "!", "=")) or line.startswith("To "):
            typer.echo(line.replace("\t", " ").strip(), err=True)
    if res.env_id:
        typer.echo(f"published env {res.env_id[:12]} to {res.cache}: {res.uploaded} path(s) "
                   "uploaded")
    for note in res.notes:
        typer.echo(f"zagi: {note}", err=True)
