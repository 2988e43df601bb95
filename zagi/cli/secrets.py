"""`zagi secrets ...`: age-encrypted secrets for app processes (zagi/secrets/)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from zagi.cli.options import Json, ProjectDir, Verbose

app = typer.Typer(help="Age-encrypted secrets in .zagi/secrets.enc, given to `zagi run` "
                       "processes only.", no_args_is_help=True, rich_markup_mode=None)
recipients_app = typer.Typer(help="Who can decrypt the secrets.", no_args_is_help=True,
                             rich_markup_mode=None)
app.add_typer(recipients_app, name="recipients")




@app.command("init")
def init(project: ProjectDir = Path(), json: Json = False, verbose: Verbose = False) -> None:
    """Create your age identity (~/.config/zagi/identity.txt, 0600) if needed and add your
    public key to .zagi/recipients (commit that file)."""
    from zagi.cli.output import emit_json
    from zagi.project import find
    from zagi.secrets import manage as secrets
    from zagi.secrets.identity import identity_path

    pub, created, added = secrets.init(find(project))
    if json:
        emit_json({"public_key": pub, "identity": str(identity_path()), "created": created,
                   "added_to_recipients": added})
        return
    if created:
        typer.echo(f"created your identity at {identity_path()} (keep it private)")
    typer.echo(f"{'added' if added else 'already a recipient:'} {pub}")


@app.command("set")
def set_(
    name: Annotated[str, typer.Argument(help="Secret name, e.g. STRIPE_KEY.")],
    project: ProjectDir = Path(),
    json: Json = False,
    verbose: Verbose = False,
) -> None:
    """Store a secret. The value is read from a hidden prompt, or from stdin when piped —
    never from the command line, where it would land in shell history and ps."""
    import getpass
    import sys

    from zagi.cli.output import emit_json
    from zagi.project import find
    from zagi.secrets import manage as secrets

    secrets.check_name(name)  # before asking for a value that would be refused
    value = getpass.getpass(f"{name}: ") if sys.stdin.isatty() else sys.stdin.read()
    value = value[:-1] if value.endswith("\n") else value
    secrets.set_value(find(project), name, value)
    if json:
        emit_json({"set": name})
    else:
        typer.echo(f"stored {name}", err=True)


@app.command("ls")
def ls(project: ProjectDir = Path(), json: Json = False, verbose: Verbose = False) -> None:
    """List secret names (never values)."""
    from zagi.cli.output import emit_json
    from zagi.project import find
    from zagi.secrets import manage as secrets

    names = sorted(secrets.store(find(project)).load())
    if json:
        emit_json({"names": names})
    else:
        for n in names:
            typer.echo(n)


@app.command("get")
def get(
    name: Annotated[str, typer.Argument(help="Secret name.")],
    reveal: Annotated[bool, typer.Option("--reveal", help="Really print the value "
                                                          "(to a terminal only).")] = False,
    project: ProjectDir = Path(),
    json: Json = False,
    verbose: Verbose = False,
) -> None:
    """Print one secret's value — only to a terminal and only with --reveal. Programs get
    secrets through `zagi run`, not through pipes or files."""
    import sys

    from zagi.core.errors import BadInput
    from zagi.project import find
    from zagi.secrets import manage as secrets

    if not reveal:
        raise BadInput(f"refusing to print {name} without --reveal")
    if not sys.stdout.isatty():
        raise BadInput("refusing to print a secret into a pipe or file",
                       hint="programs get secrets with `zagi run -- CMD`")
    values = secrets.store(find(project)).load()
    if name not in values:
        raise BadInput(f"no secret named {name!r}")
    if json:
        from zagi.cli.output import emit_json

        emit_json({"name": name, "value": values[name]})
    else:
        typer.echo(values[name])


@app.command("rm")
def rm(name: Annotated[str, typer.Argument(help="Secret name.")], project: ProjectDir = Path(),
       json: Json = False, verbose: Verbose = False) -> None:
    """Delete a secret."""
    from zagi.cli.output import emit_json
    from zagi.project import find
    from zagi.secrets import manage as secrets

    secrets.remove(find(project), name)
    if json:
        emit_json({"removed": name})
    else:
        typer.echo(f"removed {name}", err=True)


@app.command("check")
def check(
    all_files: Annotated[bool, typer.Option("--all", help="Check every tracked file, not only "
                                                          "the staged ones.")] = False,
    install_hook: Annotated[bool, typer.Option("--install-hook", help="Install as the git "
                                                                      "pre-commit hook.")] = False,
    project: ProjectDir = Path(),
    json: Json = False,
    verbose: Verbose = False,
) -> None:
    """Refuse to commit .env files or files containing a stored secret (exit 1 if any)."""
    from zagi.cli.output import emit_json
    from zagi.project import find
    from zagi.secrets import check as use

    proj = find(project)
    if install_hook:
        hook = use.install_hook(proj)
        if json:
            emit_json({"installed": str(hook)})
        else:
            typer.echo(f"installed {hook}", err=True)
        return
    problems, notes = use.check(proj, staged=not all_files)
    if json:
        emit_json({"problems": problems, "notes": notes})
    else:
        for p in problems:
            typer.echo(f"zagi secrets check: {p}", err=True)
        for n in notes:
            typer.echo(f"zagi secrets check: note: {n}", err=True)
    if problems:
        raise typer.Exit(1)


@recipients_app.command("add")
def recipients_add(key: Annotated[str, typer.Argument(help="age1... or ssh-ed25519 public key.")],
                   project: ProjectDir = Path(), json: Json = False, verbose: Verbose = False) -> None:
    """Let KEY decrypt the secrets (re-encrypts them)."""
    from zagi.cli.output import emit_json
    from zagi.project import find
    from zagi.secrets import manage as secrets

    proj = find(project)
    secrets.recipients_add(proj, key)
    if json:
        emit_json({"added": key, "recipients": secrets.store(proj).recipients()})
    else:
        typer.echo(f"added {key[:24]}...", err=True)


@recipients_app.command("rm")
def recipients_rm(key: Annotated[str, typer.Argument(help="The public key to remove.")],
                  project: ProjectDir = Path(), json: Json = False, verbose: Verbose = False) -> None:
    """Remove KEY and re-encrypt, so it cannot decrypt the new file."""
    from zagi.cli.output import emit_json
    from zagi.project import find
    from zagi.secrets import manage as secrets

    proj = find(project)
    secrets.recipients_rm(proj, key)
    if json:
        emit_json({"removed": key, "recipients": secrets.store(proj).recipients()})
    else:
        typer.echo(f"removed {key[:24]}...; secrets re-encrypted", err=True)


@recipients_app.command("ls")
def recipients_ls(project: ProjectDir = Path(), json: Json = False, verbose: Verbose = False) -> None:
    """List the public keys that can decrypt the secrets."""
    from zagi.cli.output import emit_json
    from zagi.project import find
    from zagi.secrets import manage as secrets

    proj = find(project)
    keys = secrets.store(proj).recipients()
    new = set(secrets.unconfirmed_recipients(proj))
    if json:
        emit_json({"recipients": keys, "unconfirmed": [k for k in keys if k in new]})
    else:
        for k in keys:
            typer.echo(f"{k}  (not confirmed by you)" if k in new else k)
        if new:
            typer.echo(f"zagi: {len(new)} recipient(s) not confirmed; zagi will not encrypt to "
                       "them until you run `zagi secrets recipients confirm KEY`", err=True)


@recipients_app.command("confirm")
def recipients_confirm(
    keys: Annotated[list[str], typer.Argument(metavar="KEY...", help="Keys listed in "
                                                                   ".zagi/recipients.")],
    project: ProjectDir = Path(), json: Json = False, verbose: Verbose = False,
) -> None:
    """Confirm recipients someone else added to .zagi/recipients (a teammate's commit),
    after checking whose they are. zagi encrypts only to confirmed keys."""
    from zagi.cli.output import emit_json
    from zagi.project import find
    from zagi.secrets import manage as secrets

    done = secrets.recipients_confirm(find(project), keys)
    if json:
        emit_json({"confirmed": done})
    else:
        typer.echo(f"confirmed {len(done)} recipient(s)", err=True)
