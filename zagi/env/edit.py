"""The user's own edits of the env (`zagi add`, `remove`, `update`), each one transaction:
edit env.toml and/or relock, or change nothing.

A failed edit (a version the catalog does not have, a second item that is wrong) leaves
env.toml and env.lock byte-identical to what they were, and the error names what the
user typed, not a line of a file that has been put back.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from zagi.core.errors import BadInput
from zagi.core.fsutil import atomic_write, read_bounded
from zagi.core.layout import Project, env_id_of
from zagi.core.names import did_you_mean
from zagi.drivers import nix
from zagi.env import trust
from zagi.env.lock import LockResult, lock, relock_if_locked
from zagi.env.progress import Progress
from zagi.formats import lockfile, spec
from zagi.formats.lockfile import MAX_LOCK_BYTES
from zagi.project import edit


@contextlib.contextmanager
def transaction(root: Path) -> Iterator[None]:
    """Under the edit lock: whatever raises inside puts env.toml and env.lock back. When
    it succeeds in a project the user allowed, the new env stays allowed: the user made
    this change themselves (a lock that arrives by `git pull` needs `zagi allow` again)."""
    root = root.resolve()  # trust is keyed on the real path, as find_root gives it
    proj = Project(root)
    files = (proj.env_toml, proj.lock)
    with spec.editing(proj.env_toml):
        before = {f: read_bounded(f, MAX_LOCK_BYTES) if f.exists() else None for f in files}
        old_lock = before[proj.lock]
        was_allowed = old_lock is not None and trust.is_allowed(root, env_id_of(old_lock))
        try:
            yield
        except BaseException:
            for f, data in before.items():
                if data is None:
                    f.unlink(missing_ok=True)
                elif not f.exists() or f.read_bytes() != data:
                    atomic_write(f, data)
            raise
        if was_allowed and proj.lock.exists():
            trust.allow_id(root, trust.lock_env_id(proj))


def _shown(items: list[str]) -> str:
    """What the user typed, as an error repeats it: never a megabyte back."""
    return " ".join(i if len(i) <= 60 else i[:40] + "..." for i in items)


@contextlib.contextmanager
def _about(typed: str) -> Iterator[None]:
    """An error that names no file is about the edit: say it about what the user typed
    (the files are put back). One that names a file is about that file as it already
    was (broken, missing) and keeps its file:line."""
    try:
        yield
    except BadInput as err:
        if err.file is not None:
            raise
        raise BadInput(f"zagi {typed}: {err.message}; nothing was changed", hint=err.hint,
                       details=err.details) from None


def add(root: Path, section: str, items: list[str], relock: bool = True
        ) -> tuple[list[tuple[str, str | None]], bool]:
    """(what was set, relocked?). All items or none."""
    with transaction(root), _about("add " + _shown(items)):
        done = edit.add(root, section, items)
        relocked = relock_if_locked(root) if relock else False
    return done, relocked


def remove(root: Path, names: list[str], relock: bool = True) -> tuple[list[tuple[str, str]], bool]:
    with transaction(root), _about("remove " + _shown(names)):
        done = edit.remove(root, names)
        relocked = relock_if_locked(root) if relock else False
    return done, relocked


def update(project: Project, names: list[str], opts: nix.Options,
           progress: Progress | None = None) -> tuple[LockResult, list[tuple[str, str, str]]]:
    """`zagi update [NAME...]`: resolve NAMEs (all when none) anew; (result, [(name, old
    version, new version)] for what moved)."""
    before = lockfile.read(project.lock).packages if project.lock.exists() else {}
    unknown = [n for n in names if n not in before]
    if unknown:
        raise BadInput(f"{unknown[0]!r} is not in env.lock"
                       f"{did_you_mean(unknown[0], list(before))}", file=str(project.lock))
    with transaction(project.root):  # the user's own change: keeps their trust
        res = lock(project, None, opts, progress, fresh=set(names) if names else True)
    moved = [(n, str(before[n].version), str(p.version)) for n, p in res.lock.packages.items()
             if n in before and before[n].version != p.version]
    return res, moved
