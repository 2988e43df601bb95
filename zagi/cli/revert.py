"""`zagi revert`: git revert, its env change included, and the env follows."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from zagi.cli.options import Caches, Json, ProjectDir, Trust, Verbose


def revert(
    commit: Annotated[str, typer.Argument(metavar="COMMIT")],
    cache: Caches = None,
    trust: Trust = None,
    project: ProjectDir = Path(),
    json: Json = False,
    verbose: Verbose = False,
) -> None:
    """Make a commit that undoes COMMIT (source and env, as `git revert`), then make
    .zagi/env match. Exit 1 if the revert happened but the env could not follow."""
    from zagi import history
    from zagi.cache import reader
    from zagi.cli.output import console, report_moved
    from zagi.cli.progress import BuildProgress
    from zagi.core.layout import Project
    from zagi.history import checkout as use

    root = history.root_of(project)
    with BuildProgress(console(stderr=True)) as bar:
        moved = use.revert(root, commit,
                           reader.configured(Project(root), cache or [], trust or []), bar)
    raise typer.Exit(report_moved(moved, json, f"reverted {commit}"))
