"""`zagi up`: start the project's services (zagi/services/manage.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from zagi.cli.options import Json, ProjectDir, Verbose


def up(
    names: Annotated[list[str] | None, typer.Argument(
        help="Services to start (default: every one in [services]).")] = None,
    detach: Annotated[bool, typer.Option(
        "--detach", "-d", help="Return once every service is ready; leave them running.")] = False,
    timeout: Annotated[float, typer.Option(
        "--timeout", help="Seconds to wait for readiness.")] = 60.0,
    project: ProjectDir = Path(),
    json: Json = False,
    verbose: Verbose = False,
) -> None:
    """Start services from the env: zagi up -d postgres

    Data is initialised on first start (kept per major version, outside git); each
    server binds 127.0.0.1 on a port of its own. Without -d, logs follow, prefixed with
    the service's name, until Ctrl-C stops them. See docs/services.md.
    """
    import signal

    from zagi.env.run import realized_out
    from zagi.project import find
    from zagi.services import declared, manage

    proj = find(project)

    def say(message: str) -> None:
        if not json:
            typer.echo(f"zagi: {message}", err=True)

    declared.select(declared.declared(proj), names)  # a typo fails before any sync or build
    out = realized_out(proj, say)  # synced already, or sync now
    offsets = manage.log_sizes(proj, names)
    started = manage.up(proj, out, names, timeout=timeout, say=say)
    if json:
        from zagi.cli.output import emit_json

        emit_json({"services": [r for r in manage.status(proj)
                                if r["name"] in {i.name for i in started}]})
    if detach:
        if not json:
            typer.echo(f"{len(started)} service(s) up: "
                       + ", ".join(f"{i.name} {i.version} on 127.0.0.1:{i.port}" for i in started))
        return
    offsets = {i.name: offsets.get(i.name, 0) for i in started}

    def _term(_sig: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _term)
    width = max(len(n) for n in offsets) if offsets else 0
    try:
        manage.follow(proj, offsets,
                      lambda n, line: typer.echo(f"{n.ljust(width)} | {line}"),
                      lambda: True)
    except KeyboardInterrupt:
        say("stopping " + ", ".join(offsets))
        manage.down(proj, list(offsets))
