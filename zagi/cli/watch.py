"""`zagi watch`: keep the lock and the env in step with env.toml (zagi/env/watch.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from zagi.cli.options import ProjectDir, Verbose


def watch(
    infer: Annotated[bool, typer.Option("--infer", help="Also re-run `zagi init --force` when "
                                                        "version files or manifests change.")]
    = False,
    project: ProjectDir = Path(),
    json: Annotated[bool, typer.Option("--json", help="One JSON object per event on stderr.")]
    = False,
    verbose: Verbose = False,
) -> None:
    """Keep env.lock and the realized env in step with env.toml while you work (Ctrl-C stops).

    The shell hook then always finds a ready env.
    """
    import json as _json

    from zagi.env import watch as use
    from zagi.project import find


    def say(msg: str) -> None:
        typer.echo(_json.dumps({"watch": msg}) if json else f"zagi watch: {msg}", err=True)

    use.watch(find(project), infer, say)
