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
    from zagi.env import edit
    removed, relocked = edit.remove(project, names, relock=not no_lock)
    if json:
        emit_json({"removed": [{"name": n, "section": s} for n, s in removed],
                   "relocked": relocked})
    else:
        for name, section in removed:
            console().print(f"removed {name} from [{section}]", highlight=False, markup=False)
