"""Checkout and revert carry the environment; the git hooks that make plain git do it.

`zagi checkout REV` = `git checkout REV`, then `.zagi/env` follows the files that are now
in `.zagi/` (`follow`): a sync that never relocks (a checkout must not rewrite the
committed lock) and, from the git hooks, never builds (git is not blocked for long:
what is cached or downloadable is used, anything else is named with the command that
builds it). Trust is unchanged: an env id this project never allowed is not activated
by the shell hook until `zagi allow`; switching back to an allowed one is immediate.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from zagi.cache.reader import CacheConfig
from zagi.core import layout
from zagi.core.errors import BadInput, ZagiError
from zagi.core.fsutil import atomic_write, read_bounded
from zagi.drivers import git, nix
from zagi.env import sync, trust
from zagi.env.progress import Progress
from zagi.env.result import SyncResult
from zagi.history import changes, envdiff
from zagi.history.envdiff import Change

__all__ = ["HOOKS", "Moved", "checkout", "follow", "hook_script", "install_hooks", "revert"]

HOOKS = ("post-checkout", "post-merge", "post-rewrite")
MARK = "# zagi: keep .zagi/env in step with the checked-out commit"
CHAINED = ".zagi-chained"


@dataclass
class Moved:
    """What a checkout or revert did to the environment."""

    target: str
    changes: list[Change] = field(default_factory=list)
    sync: SyncResult | None = None  # None: the revision has no env, or it failed
    error: ZagiError | None = None  # why the env could not follow
    allowed: bool = False  # the shell hook will activate the new env
    services: list[str] = field(default_factory=list)  # up after the move (zagi/services)

    def to_json(self) -> dict[str, object]:
        return {"target": self.target, "changes": [c.to_json() for c in self.changes],
                "env": [envdiff.render(c) for c in self.changes],
                "sync": self.sync.to_json() if self.sync else None,
                "error": self.error.to_json() if self.error else None, "allowed": self.allowed,
                "services": self.services}


def follow(root: Path, caches: CacheConfig | None, progress: Progress | None = None,
           build: bool = True) -> SyncResult | None:
    """Make .zagi/env match .zagi/ as it is now; None when there is no env here."""
    project = layout.Project(root)
    if not project.env_toml.is_file():
        for p in (project.mount, project.synced):
            if p.is_symlink() or p.exists():
                p.unlink()
        return None
    return sync.sync(project, nix.Options(), frozen=True, progress=progress, caches=caches,
                     build=build)


def _moved(root: Path, target: str, before: envdiff.EnvState, caches: CacheConfig | None,
           progress: Progress | None) -> Moved:
    moved = Moved(target, envdiff.diff(before, changes.working_state(root)))
    try:
        moved.sync = follow(root, caches, progress)
    except ZagiError as exc:  # git already moved: say why the env could not
        moved.error = exc
    if moved.sync is not None:
        moved.allowed = trust.is_allowed(root, moved.sync.env_id)
    if moved.sync is not None and moved.error is None:
        from zagi.services import manage

        say = progress.note if progress else (lambda _m: None)
        try:  # running services follow the env; git has moved either way
            # Servers the user started follow the env (their programs come from the
            # vouched package sets sync checked); [project] autostart, a setting of the
            # repo's, only for an env the user allowed here.
            moved.services = manage.after_checkout(layout.Project(root), moved.sync.out, say,
                                                   autostart=moved.allowed)
        except ZagiError as exc:
            moved.error = exc
    return moved


def checkout(root: Path, target: str, caches: CacheConfig | None,
             progress: Progress | None = None) -> Moved:
    before = changes.working_state(root)
    git.checkout(root, target)
    return _moved(root, target, before, caches, progress)


def revert(root: Path, commit_rev: str, caches: CacheConfig | None,
           progress: Progress | None = None) -> Moved:
    if git.resolve(root, commit_rev) is None:
        raise BadInput(f"{commit_rev!r}: no such commit")
    before = changes.working_state(root)
    conflicted = git.revert(root, commit_rev)
    lock_file = f"{layout.ZAGI_DIR}/{layout.ENV_LOCK}"
    if conflicted == [lock_file]:
        # env.lock is derived: with env.toml merged, relock it (sticky against HEAD's lock,
        # so only what the revert changes moves) instead of asking for a JSON merge.
        from zagi.env import lock as locking

        git.take_ours(root, lock_file)
        locking.lock(layout.Project(root), None, nix.Options(), progress)
        git.revert_continue(root, [lock_file])
    elif conflicted:
        raise BadInput(f"git revert stopped on conflicts in {', '.join(conflicted)}",
                       hint="resolve them, then `git revert --continue` and `zagi sync` "
                            "(or `git revert --abort`)")
    return _moved(root, commit_rev, before, caches, progress)


def hook_script(zagi: str) -> str:
    return f"""#!/bin/sh
{MARK} (`zagi hook git --install`)
# Runs the hook that was here before (renamed *{CHAINED}), then syncs what is cached;
# never builds, never fails git.
status=0
if [ -x "$0{CHAINED}" ]; then "$0{CHAINED}" "$@"; status=$?; fi
case "$(basename "$0")" in post-checkout) [ "$3" = 1 ] || exit $status ;; esac
[ -f .zagi/env.toml ] || exit $status
{shlex.quote(zagi)} sync --no-build >&2 || true
exit $status
"""


def install_hooks(root: Path, zagi: str) -> tuple[Path, list[str]]:
    """Write the three hooks (idempotent), keeping any hook already there as *.zagi-chained;
    (the hooks directory, the hooks written)."""
    hooks = git.hooks_dir(root)
    hooks.mkdir(parents=True, exist_ok=True)
    written = []
    for name in HOOKS:
        path = hooks / name
        text = hook_script(zagi)
        if path.is_file() and not path.is_symlink():
            current = read_bounded(path, 1 << 20).decode(errors="replace")
            if current == text:
                continue
            if MARK not in current:  # someone else's hook: keep it, run it first
                chained = hooks / f"{name}{CHAINED}"
                if chained.exists():
                    raise BadInput(f"{path} is not zagi's and {chained} exists too; "
                                   "merge them by hand")
                os.replace(path, chained)
        elif path.is_symlink():
            raise BadInput(f"{path} is a symlink; zagi leaves it alone",
                           hint=f"chain it by hand: run {zagi} sync --no-build from it")
        atomic_write(path, text, mode=0o755)
        written.append(name)
    return hooks, written
