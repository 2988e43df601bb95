"""`zagi doctor`: the facts a bug report needs (zagi/env/doctor.py)."""

from __future__ import annotations

import typer

from zagi.cli.options import Json, Verbose

_STYLE = {"ok": "green", "warn": "yellow", "fail": "bold red", "info": "dim"}


def doctor(json: Json = False, verbose: Verbose = False) -> None:
    """Check this machine (Nix, git, ZAGI_HOME, caches, keys, shell hooks) for a bug report.

    Exits 1 when a check fails; each failure comes with the command that fixes it.
    """
    from rich.markup import escape

    from zagi.cli.output import console, emit_json
    from zagi.env import doctor as use
    checks = use.run()
    if json:
        emit_json(use.to_json(checks))
    else:
        con = console()
        for c in checks:
            label = f"{c.status.upper() if c.status == 'fail' else c.status:>4}"
            con.print(f"[{_STYLE[c.status]}]{label}[/]  {escape(c.name)}: {escape(c.detail)}",
                      highlight=False)
            if c.fix:
                con.print(f"{'':>6}fix: {escape(c.fix)}", highlight=False)
    if any(c.status == "fail" for c in checks):
        raise typer.Exit(1)
