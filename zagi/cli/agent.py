"""`zagi agent -- CMD`: a coding agent with the env and without the secrets (zagi/env/agent.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from zagi.cli.options import ProjectDir, Verbose


def agent(
    command: Annotated[list[str], typer.Argument(help="The agent (or any command) to start.")],
    project: ProjectDir = Path(),
    json: Annotated[bool, typer.Option("--json", help="zagi's own errors as JSON.")] = False,
    verbose: Verbose = False,
) -> None:
    """Start a coding agent with the project's env but no access to secrets, by the kernel:
    new mount + PID namespaces, key material masked, its own /proc, secret names removed
    from its environment. `zagi run` inside it runs without secrets."""
    from zagi.env import agent as use
    from zagi.project import find

    raise typer.Exit(use.run(find(project), command))
