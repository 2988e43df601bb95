"""`zagi hook SHELL`: the shell hook that activates project envs on cd."""

from __future__ import annotations

from typing import Annotated

import typer

from zagi.cli.options import Json, Verbose


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
    from zagi.cli.output import emit_json
    from zagi.env import hook as use

    if install:
        old = use.bash_too_old() if shell == "bash" else None
        rc, added = use.install(shell)
        warning = (f"bash {old} is too old for the hook (it needs 4.3; macOS ships 3.2): it "
                   "will say so at each start and stay off; use zsh, or brew install bash"
                   if old else None)
        if json:
            emit_json({"shell": shell, "rc_file": str(rc), "added": added, "warning": warning})
        else:
            typer.echo(f"{'added the zagi hook to' if added else 'already in'} {rc}", err=True)
            if warning:
                typer.echo(f"warning: {warning}", err=True)
        return
    script = use.hook(shell)
    if json:
        emit_json({"shell": shell, "script": script})
    else:
        typer.echo(script, nl=False)
