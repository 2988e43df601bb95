"""`zagi init`: infer .zagi/env.toml from the repo's files (zagi/project/init.py)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from zagi.cli.options import Json, Verbose

if TYPE_CHECKING:
    from rich.console import Console

    from zagi.project.init import InitResult


def init(
    path: Annotated[Path, typer.Argument(help="Repository root (default: current directory).")]
    = Path(),
    force: Annotated[bool, typer.Option("--force", "-f",
                                        help="Replace an existing .zagi/env.toml.")] = False,
    merge: Annotated[bool, typer.Option(
        "--merge", help="Re-infer an existing .zagi/env.toml, keeping what you wrote in it "
                        "(entries without init's evidence comment, every [env] variable).")]
    = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", "-n",
                                          help="Print the file instead of writing it.")] = False,
    with_: Annotated[list[str] | None, typer.Option(
        "--with", metavar="TOOL@VERSION",
        help="Override what detection found, e.g. --with node@22 (repeatable).")] = None,
    json: Json = False,
    verbose: Verbose = False,
) -> None:
    """Infer the repo's environment from its files and write .zagi/env.toml.

    Reads lockfiles, version files, manifests, Dockerfiles, compose files and
    flake.nix. Never runs the repo's code and never uses the network. Every value
    is commented with its evidence (file:line and kind).
    """
    from zagi.cli.output import console, emit_json
    from zagi.project import init as use
    result = use.run(path, force=force or merge, dry_run=dry_run,
                     overrides=use.parse_with(with_ or []), merge=merge)
    if json:
        emit_json(use.to_json(result))
        return
    if dry_run:
        typer.echo(result.text, nl=False)
    _summary(result, console(stderr=dry_run))


def _summary(result: InitResult, con: Console) -> None:
    from rich.markup import escape
    from rich.table import Table

    r = result.report
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    for col in ("", "name", "version", "kind", "evidence"):
        table.add_column(col)
    for label, items in (("tool", r.tools), ("service", r.services)):
        for name, c in items.items():
            ev = c.evidence[0]
            table.add_row(label, name, c.version or "-", c.kind, escape(f"{ev.cite()}  {ev.rule}"))
    for name, c in r.system.items():
        table.add_row("system", name, "", "", c.evidence[0].cite())
    if r.nix:
        table.add_row("nix", r.nix.name, r.nix.version or "", "", r.nix.evidence[0].cite())
    con.print(table)
    for w in r.warnings:
        con.print(f"[yellow]warning:[/] {escape(w)}", markup=True, highlight=False)
    for s in r.suggestions:
        con.print(f"[cyan]suggestion:[/] {escape(s)}", markup=True, highlight=False)
    if result.written:
        con.print(f"wrote {result.path}")
        if _hooks_missing(result.path.parent.parent):
            con.print("next: `zagi lock`, then `zagi hook git --install` so git checkout, pull "
                      "and rebase keep the env in step", markup=False, highlight=False)


def _hooks_missing(root: Path) -> bool:
    """A git work tree without zagi's post-checkout hook (init offers it, never installs)."""
    from zagi.core.errors import ZagiError
    from zagi.drivers import git
    from zagi.history.checkout import MARK

    try:
        hook = git.hooks_dir(root) / "post-checkout"
    except ZagiError:
        return False  # not a git repository
    try:
        return MARK not in hook.read_text(errors="replace")[:4096]
    except OSError:
        return True
