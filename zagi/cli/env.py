"""`zagi env`: the env's activation as exports, for scripts and agents."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from zagi.cli.options import ProjectDir, Verbose


def env(
    export: Annotated[str, typer.Option("--export", help="bash, zsh, fish or json.")] = "bash",
    project: ProjectDir = Path(),
    json: Annotated[bool, typer.Option("--json", help="Same as --export json.")] = False,
    verbose: Verbose = False,
) -> None:
    """Print the project's env activation, for scripts and agents: eval "$(zagi env)"."""
    from zagi.env import run as use
    from zagi.project import find

    typer.echo(use.exports(find(project), "json" if json else export), nl=False)
