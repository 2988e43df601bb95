"""`zagi clone URL [DIR]`: git clone, then make the env ready (a download when cached)."""

from __future__ import annotations

import re
from pathlib import Path

from zagi.app.project import Project
from zagi.core import proc
from zagi.core.errors import BadInput, ZagiError


def target_dir(url: str, dest: str | None) -> Path:
    if dest:
        return Path(dest)
    name = re.sub(r"\.git$", "", url.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1])
    if not name:
        raise BadInput(f"cannot derive a directory name from {url!r}; give one")
    return Path(name)


def git_clone(url: str, dest: Path, depth: int | None) -> None:
    if dest.exists() and any(dest.iterdir()):
        raise BadInput(f"{dest} exists and is not empty")
    argv = ["git", "clone", "--quiet", *(["--depth", str(depth)] if depth else []), url, str(dest)]
    res = proc.run(argv, timeout=3600)
    if not res.ok:
        raise ZagiError(f"git clone failed: {res.stderr.strip().splitlines()[-1] if res.stderr else ''}")


def project_in(dest: Path) -> Project | None:
    return Project(dest.resolve()) if (dest / ".zagi" / "env.toml").is_file() else None
