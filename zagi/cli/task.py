"""`zagi task NAME [ARGS...]`: run a [tasks] entry in the env (zagi/services/tasks.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from zagi.cli.options import ProjectDir, Verbose


def task(
    name: Annotated[str, typer.Argument(help="The task, a key of [tasks].")],
    args: Annotated[list[str] | None, typer.Argument(help="Passed to the task as \"$@\".")] = None,
    project: ProjectDir = Path(),
    json: Annotated[bool, typer.Option("--json", help="zagi's own errors as JSON; the "
                                                      "task's output is untouched.")] = False,
    verbose: Verbose = False,
) -> None:
    """Run a project task in the env: zagi task test -k slow

    Its `needs` services are started first (zagi up -d); its exit status is the task's.
    """
    import os

    from zagi.core.proc import replace_process
    from zagi.env.run import ready_env, realized_out
    from zagi.formats import spec as specfile
    from zagi.project import find
    from zagi.secrets.for_run import for_run
    from zagi.services import manage, tasks

    proj = find(project)
    spec = specfile.load(proj.env_toml)
    t = tasks.get(spec, name, str(proj.env_toml))
    cwd = tasks.workdir(proj, t)

    def say(message: str) -> None:
        typer.echo(f"zagi: {message}", err=True)

    env = ready_env(proj, say=say)
    if t.needs:
        manage.up(proj, realized_out(proj, say), t.needs, say=say)
    values, note = for_run(proj)
    if note:
        say(note)
    os.chdir(cwd)
    replace_process(tasks.argv(name, t, args or []), {**env, **t.env, **values})
