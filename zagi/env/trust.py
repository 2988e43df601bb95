"""Trust: which (project, env) pairs the shell hook may activate (`zagi allow` / `deny`).

Trust is keyed on the project root and the env id, so any change to the lock needs a
new `zagi allow`; zagi's own bookkeeping (sync recording this machine's closure) carries
it over (zagi/env/sync.py). The hooks test the same file: layout.allow_file.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from zagi.core import layout
from zagi.core.errors import NotLocked
from zagi.core.fsutil import atomic_write, read_bounded
from zagi.core.layout import Project
from zagi.formats.lockfile import MAX_LOCK_BYTES


def lock_env_id(project: Project) -> str:
    if not project.lock.exists() and not project.lock.is_symlink():
        raise NotLocked("this project has no env.lock yet",
                        hint="run `zagi sync` (or `zagi lock`), then `zagi allow`")
    from zagi.drivers import nix  # the system as Nix says (cached), as sync computes ids

    return layout.env_id_of(read_bounded(project.lock, MAX_LOCK_BYTES), nix.current_system())


def synced_env_id(project: Project) -> str | None:
    synced = layout.read_synced(project)
    return synced[0] if synced else None


def allow(project: Project) -> list[str]:
    """Trust this project's current env (the lock's, and the last synced one) in hooks."""
    ids = {lock_env_id(project)}
    if synced := synced_env_id(project):
        ids.add(synced)
    for env_id in sorted(ids):
        allow_id(project.root, env_id)
    _nudge_hooks(project)
    return sorted(ids)


def _nudge_hooks(project: Project) -> None:
    """The hooks re-read a project when .synced is newer than their last look: touching
    it makes the next prompt apply an allow or a deny, without leaving and re-entering."""
    with contextlib.suppress(OSError):
        os.utime(project.synced)


def allow_id(root: Path, env_id: str) -> None:
    """Atomic: the hook tests for the file's existence, so a write that fails (a full
    disk) must leave no file behind rather than an empty one that counts as trust."""
    if not root.is_absolute():  # "." would name the env's whole allow directory
        raise ValueError(f"trust needs an absolute project root, not {root}")
    atomic_write(layout.allow_file(env_id, root), str(root) + "\n")


def is_allowed(root: Path, env_id: str) -> bool:
    return layout.allow_file(env_id, root).exists()


def deny(project: Project) -> int:
    base = layout.allow_dir()
    removed = 0
    for f in base.glob(f"*/{layout.allow_key(project.root)}") if base.is_dir() else []:
        f.unlink()
        removed += 1
    _nudge_hooks(project)
    return removed
