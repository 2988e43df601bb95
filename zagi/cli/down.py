"""`zagi down`: stop the project's services (zagi/services/manage.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from zagi.cli.options import Json, ProjectDir, Verbose


def down(
    names: Annotated[list[str] | None, typer.Argument(
        help="Services to stop (default: all of them, and their supervisor).")] = None,
    project: ProjectDir = Path(),
    json: Json = False,
    verbose: Verbose = False,
) -> None:
    """Stop services cleanly (their stop signal, then SIGKILL after 20 s); data is kept."""
    from zagi.cli.output import console, emit_json
    from zagi.project import find
    from zagi.services import manage

    stopped = manage.down(find(project), names)
    if json:
        emit_json({"stopped": stopped})
        return
    console().print(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running",
                    markup=False)
