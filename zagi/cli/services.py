"""`zagi services`: what runs, and `zagi services logs NAME` (zagi/services/manage.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from zagi.cli.options import Json, ProjectDir, Verbose

app = typer.Typer(help="The project's services: state, ports, logs (start with `zagi up`).",
                  invoke_without_command=True)


@app.callback()
def services(
    ctx: typer.Context,
    project: ProjectDir = Path(),
    json: Json = False,
    verbose: Verbose = False,
) -> None:
    """List the project's services: name, version, state, pid, port, socket, data dir."""
    if ctx.invoked_subcommand is not None:
        return
    from zagi.cli.output import console, emit_json
    from zagi.project import find
    from zagi.services import manage

    rows = manage.status(find(project))
    if json:
        emit_json({"services": rows})
        return
    con = console()
    if not rows:
        con.print("no services in .zagi/env.toml ([services] postgres = \"16\" adds one)",
                  markup=False)
    for r in rows:
        if r["state"] == "unsupported":
            con.print(f"{r['name']:<10} {r['version']:<8} (zagi cannot run it yet)", markup=False)
            continue
        up = f" pid {r['pid']}, up {r['uptime']}s" if r["state"] == "running" else ""
        con.print(f"{r['name']:<10} {r['version']:<8} {r['state']:<10} 127.0.0.1:{r['port']}"
                  f"{up}  data {r['data_dir']}", markup=False)


@app.command()
def logs(
    name: Annotated[str, typer.Argument(help="The service.")],
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new lines.")] = False,
    lines: Annotated[int, typer.Option("--lines", "-n", help="How many lines to show.")] = 50,
    project: ProjectDir = Path(),
    json: Json = False,
    verbose: Verbose = False,
) -> None:
    """Print a service's log (bounded: rotated at 2 MB, two old files kept)."""
    from zagi.cli.output import emit_json
    from zagi.core.errors import BadInput
    from zagi.project import find
    from zagi.services import manage

    proj = find(project)
    path = manage.log_path(proj, name)
    if json:
        if follow:
            raise BadInput("--json and --follow do not go together")
        emit_json({"service": name, "log": str(path), "lines": manage.tail_lines(path, lines)})
        return
    for line in manage.tail_lines(path, lines):
        typer.echo(line)
    if follow:
        import contextlib

        with contextlib.suppress(KeyboardInterrupt):
            manage.follow(proj, manage.log_sizes(proj, [name]),
                          lambda _n, line: typer.echo(line), lambda: True)
