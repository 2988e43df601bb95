"""`zagi hook SHELL`: the shell hook that activates project envs on cd."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from zagi.cli.options import Json, ProjectDir, Verbose


def hook(
    shell: Annotated[str, typer.Argument(help="bash, zsh, fish, direnv, or git (the hooks "
                                              "that make checkout/pull/rebase sync).")],
    install: Annotated[bool, typer.Option("--install", help="Add it to the shell's rc file "
                                                            "(direnv: direnvrc; git: the "
                                                            "repository's hooks).")] = False,
    project: ProjectDir = Path(),
    json: Json = False,
    verbose: Verbose = False,
) -> None:
    """Print the hook that activates project envs on cd (eval "$(zagi hook bash)").

    Per prompt it starts no process and evaluates no Nix; it activates only projects
    you have `zagi allow`ed, and restores your shell exactly when you leave.
    """
    from zagi.cli.output import emit_json
    from zagi.env import hook as use

    if shell == "git":
        _git_hooks(project, install, json)
        return
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


def _git_hooks(project: Path, install: bool, as_json: bool) -> None:
    """post-checkout, post-merge, post-rewrite: plain git carries the env too."""
    from zagi import history
    from zagi.cli.output import emit_json
    from zagi.env import hook as use
    from zagi.history import checkout

    if not install:
        typer.echo(checkout.hook_script(use.executable()), nl=False)
        return
    hooks, written = checkout.install_hooks(history.root_of(project), use.executable())
    if as_json:
        emit_json({"shell": "git", "hooks_dir": str(hooks), "written": written})
    else:
        typer.echo(f"{'wrote ' + ', '.join(written) if written else 'already installed'} "
                   f"in {hooks}", err=True)
