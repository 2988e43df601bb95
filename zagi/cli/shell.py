"""`zagi shell`: your $SHELL inside the project's env."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from zagi.cli.options import ProjectDir, Verbose


def shell(
    project: ProjectDir = Path(),
    json: Annotated[bool, typer.Option("--json", help="zagi's own errors as JSON.")] = False,
    verbose: Verbose = False,
) -> None:
    """Start your shell ($SHELL) inside the project's env; exit it to leave."""
    import os

    from zagi.core.proc import replace_process
    from zagi.env.run import ready_env
    from zagi.project import find

    env = ready_env(find(project), say=lambda m: typer.echo(f"zagi: {m}", err=True))
    env["ZAGI_SHELL"] = "1"
    replace_process([os.environ.get("SHELL") or "/bin/bash"], env)
