"""`zagi remove`: take entries out of env.toml in place, then relock."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from zagi.cli.options import Json, NoLock, RootDir, Verbose


def remove(
    names: Annotated[list[str], typer.Argument(metavar="NAME...",
                                               help="Tools, services or packages to remove.")],
    project: RootDir = Path(),
    no_lock: NoLock = False,
    json: Json = False,
    verbose: Verbose = False,
) -> None:
    """Remove tools, services or system packages from .zagi/env.toml, then relock."""
    from zagi.cli.output import console, emit_json
    from zagi.env.lock import relock_if_locked
    from zagi.project import edit
    removed = edit.remove(project, names)
    relocked = False if no_lock else relock_if_locked(project)
    if json:
        emit_json({"removed": [{"name": n, "section": s} for n, s in removed],
                   "relocked": relocked})
    else:
        for name, section in removed:
            console().print(f"removed {name} from [{section}]", highlight=False, markup=False)
