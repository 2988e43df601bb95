"""The project: finding it, inferring its env.toml (`zagi init`), editing it (`add`/`remove`).

Modules: init (detection -> env.toml), edit (add/remove entries). Paths inside a
project are zagi/core/layout.py's Project.
"""

from __future__ import annotations

from pathlib import Path

from zagi.core.errors import BadInput
from zagi.core.layout import Project, find_root

__all__ = ["Project", "find"]


def find(start: Path) -> Project:
    """The nearest project at or above `start`; BadInput (exit 2) when there is none."""
    root = find_root(start)
    if root is None:
        raise BadInput(f"no .zagi/env.toml in {start.resolve()} or any parent directory",
                       hint="create one with `zagi init`")
    return Project(root)
