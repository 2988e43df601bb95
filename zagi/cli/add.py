"""`zagi add`: edit env.toml in place, keeping comments and order, then relock."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from zagi.cli.options import Json, NoLock, RootDir, Verbose


def add(
    items: Annotated[list[str], typer.Argument(metavar="NAME[@VERSION]...",
                                               help="Tools such as node@20, zig@0.15, uv.")],
    service: Annotated[bool, typer.Option("--service",
                                          help="Add services (postgres@16) instead.")] = False,
    system: Annotated[bool, typer.Option("--system",
                                         help="Add system packages (libpq) instead.")] = False,
    project: RootDir = Path(),
    no_lock: NoLock = False,
    json: Json = False,
    verbose: Verbose = False,
) -> None:
    """Add or change tools, services or system packages in .zagi/env.toml, then relock.

    A missing version means "latest". Nothing is written unless the edited file is
    valid; env.lock is updated when the project has one (skip with --no-lock).
    """
    from zagi.cli.output import console, emit_json
    from zagi.env import edit
    section = "system" if system else "services" if service else "tools"
    changed, relocked = edit.add(project, section, items, relock=not no_lock)
    if json:
        emit_json({"added": changed, "section": section, "relocked": relocked})
    else:
        for name, version in changed:
            console().print(f"{section}: {name} = {version!r}" if version else
                            f"system: {name}", highlight=False)
