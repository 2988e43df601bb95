"""`zagi run -- CMD`: a command in the project's env, with its secrets (zagi/env/run.py).

The realized, secret-less case never gets here: zagi/__main__.py execs it directly."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from zagi.cli.options import ProjectDir, Verbose


def run(
    command: Annotated[list[str], typer.Argument(help="The command and its arguments.")],
    frozen: Annotated[bool, typer.Option("--frozen", help="Never relock: fail if env.lock is "
                                                          "stale (for CI).")] = False,
    project: ProjectDir = Path(),
    json: Annotated[bool, typer.Option("--json", help="zagi's own errors as JSON; the "
                                                      "command's output is untouched.")] = False,
    verbose: Verbose = False,
) -> None:
    """Run a command inside the project's env: zagi run -- make test

    Syncs first if needed. The command replaces zagi (exec): its exit status and signals
    are the command's own, stdin and stdout untouched.
    """
    from zagi.core.proc import replace_process
    from zagi.env.run import ready_env
    from zagi.project import find
    from zagi.secrets.for_run import for_run

    proj = find(project)
    env = ready_env(proj, frozen=frozen, say=lambda m: typer.echo(f"zagi: {m}", err=True))
    values, note = for_run(proj)
    if note:
        typer.echo(f"zagi: {note}", err=True)
    replace_process(command, {**env, **values})
