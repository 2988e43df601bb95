"""Shell integration: `zagi hook`, `allow`, `deny`, `env`, `run`, `shell`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from zagi.cli.options import Json, Verbose

Dir = Annotated[Path, typer.Option("--project", "-C",
                                   help="Start looking for .zagi/env.toml here (default: .).")]


def hook(
    shell: Annotated[str, typer.Argument(help="bash, zsh, fish or direnv.")],
    install: Annotated[bool, typer.Option("--install", help="Add it to the shell's rc file "
                                                            "(direnv: direnvrc).")] = False,
    json: Json = False,
    verbose: Verbose = False,
) -> None:
    """Print the hook that activates project envs on cd (eval "$(zagi hook bash)").

    Per prompt it starts no process and evaluates no Nix; it activates only projects
    you have `zagi allow`ed, and restores your shell exactly when you leave.
    """
    from zagi.app import activate
    from zagi.cli.output import emit_json

    if install:
        rc, added = activate.install(shell)
        if json:
            emit_json({"shell": shell, "rc_file": str(rc), "added": added})
        else:
            typer.echo(f"{'added the zagi hook to' if added else 'already in'} {rc}", err=True)
        return
    script = activate.hook(shell)
    if json:
        emit_json({"shell": shell, "script": script})
    else:
        typer.echo(script, nl=False)


def allow(project: Dir = Path(), json: Json = False, verbose: Verbose = False) -> None:
    """Trust this project: the shell hook will activate its current env."""
    from zagi.app import activate
    from zagi.app.project import find
    from zagi.cli.output import emit_json

    proj = find(project)
    ids = activate.allow(proj)
    if json:
        emit_json({"allowed": str(proj.root), "env_ids": ids})
    else:
        typer.echo(f"allowed {proj.root} (env {', '.join(i[:12] for i in ids)})")


def deny(project: Dir = Path(), json: Json = False, verbose: Verbose = False) -> None:
    """Revoke trust: the shell hook will no longer activate this project."""
    from zagi.app import activate
    from zagi.app.project import find
    from zagi.cli.output import emit_json

    proj = find(project)
    n = activate.deny(proj)
    if json:
        emit_json({"denied": str(proj.root), "removed": n})
    else:
        typer.echo(f"denied {proj.root}")


def env(
    export: Annotated[str, typer.Option("--export", help="bash, zsh, fish or json.")] = "bash",
    project: Dir = Path(),
    json: Annotated[bool, typer.Option("--json", help="Same as --export json.")] = False,
    verbose: Verbose = False,
) -> None:
    """Print the project's env activation, for scripts and agents: eval "$(zagi env)"."""
    from zagi.app import activate
    from zagi.app.project import find

    typer.echo(activate.exports(find(project), "json" if json else export), nl=False)


def ready_env(project: Path, verbose: bool) -> dict[str, str]:
    import os

    from zagi.app import fastsync, realize
    from zagi.app.project import find
    from zagi.cli.output import setup_logging
    from zagi.core import nix
    from zagi.core.errors import ZagiError

    setup_logging(verbose)
    proj = find(project)
    found = fastsync.realized(proj.root)
    if found is None:
        realize.sync(proj, nix.Options())
        found = fastsync.realized(proj.root)
    env = fastsync.run_env(found[0], dict(os.environ)) if found else None
    if env is None:
        raise ZagiError("the env could not be prepared", hint="run `zagi sync` to see why")
    return env


def run(
    command: Annotated[list[str], typer.Argument(help="The command and its arguments.")],
    project: Dir = Path(),
    json: Annotated[bool, typer.Option("--json", help="zagi's own errors as JSON; the "
                                                      "command's output is untouched.")] = False,
    verbose: Verbose = False,
) -> None:
    """Run a command inside the project's env: zagi run -- make test

    Syncs first if needed. The command replaces zagi (exec): its exit status and signals
    are the command's own, stdin and stdout untouched.
    """
    from zagi.app import secrets
    from zagi.app.project import find
    from zagi.core.proc import replace_process

    env = ready_env(project, verbose)
    values, note = secrets.for_run(find(project))
    if note:
        typer.echo(f"zagi: {note}", err=True)
    replace_process(command, {**env, **values})


def shell(
    project: Dir = Path(),
    json: Annotated[bool, typer.Option("--json", help="zagi's own errors as JSON.")] = False,
    verbose: Verbose = False,
) -> None:
    """Start your shell ($SHELL) inside the project's env; exit it to leave."""
    import os

    from zagi.core.proc import replace_process

    env = ready_env(project, verbose)
    env["ZAGI_SHELL"] = "1"
    replace_process([os.environ.get("SHELL") or "/bin/bash"], env)


def watch(
    infer: Annotated[bool, typer.Option("--infer", help="Also re-run `zagi init --force` when "
                                                        "version files or manifests change.")]
    = False,
    project: Dir = Path(),
    json: Annotated[bool, typer.Option("--json", help="One JSON object per event on stderr.")]
    = False,
    verbose: Verbose = False,
) -> None:
    """Keep env.lock and the realized env in step with env.toml while you work (Ctrl-C stops).

    The shell hook then always finds a ready env.
    """
    import json as _json

    from zagi.app import watch as use
    from zagi.app.project import find
    from zagi.cli.output import setup_logging

    setup_logging(verbose)

    def say(msg: str) -> None:
        typer.echo(_json.dumps({"watch": msg}) if json else f"zagi watch: {msg}", err=True)

    use.watch(find(project), infer, say)
