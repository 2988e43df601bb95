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
    _check_exists(command[0], env.get("PATH", ""))
    replace_process(command, {**env, **values})


def _check_exists(program: str, path: str) -> None:
    """Say "not found" as zagi's own error (JSON with --json, exit 127) before exec, when
    the program is in neither the env nor PATH: after exec only the shell's text is left."""
    import os
    import shutil

    from zagi.core.errors import CommandNotFound

    found = (os.access(program, os.X_OK) and not os.path.isdir(program)) if "/" in program \
        else shutil.which(program, path=path) is not None
    if not found:
        raise CommandNotFound(f"{program}: command not found in the env or on PATH",
                              hint="see what the env provides: ls .zagi/env/bin")
