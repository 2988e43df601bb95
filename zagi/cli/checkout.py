"""`zagi checkout`: git checkout, and the env follows (zagi/history/checkout.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from zagi.cli.options import Caches, Json, ProjectDir, Trust, Verbose


def checkout(
    target: Annotated[str, typer.Argument(metavar="REV|BRANCH")],
    cache: Caches = None,
    trust: Trust = None,
    project: ProjectDir = Path(),
    json: Json = False,
    verbose: Verbose = False,
) -> None:
    """git checkout REV|BRANCH, then make .zagi/env that revision's env (a download or a
    cached switch; never relocks). Exit 1 if git moved but the env could not follow."""
    from zagi import history
    from zagi.cache import reader
    from zagi.cli.output import console, report_moved
    from zagi.cli.progress import BuildProgress
    from zagi.core.layout import Project
    from zagi.history import checkout as use

    root = history.root_of(project)
    with BuildProgress(console(stderr=True)) as bar:
        moved = use.checkout(root, target,
                             reader.configured(Project(root), cache or [], trust or []), bar)
    raise typer.Exit(report_moved(moved, json, f"checked out {target}"))
