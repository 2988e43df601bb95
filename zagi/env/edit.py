"""`zagi add` / `zagi remove` as one transaction: edit env.toml, relock, or change nothing.

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
from zagi.core.layout import Project
from zagi.env.lock import relock_if_locked
from zagi.formats import spec
from zagi.formats.lockfile import MAX_LOCK_BYTES
from zagi.project import edit


@contextlib.contextmanager
def transaction(root: Path) -> Iterator[None]:
    """Under the edit lock: whatever raises inside puts env.toml and env.lock back."""
    proj = Project(root)
    files = (proj.env_toml, proj.lock)
    with spec.editing(proj.env_toml):
        before = {f: read_bounded(f, MAX_LOCK_BYTES) if f.exists() else None for f in files}
        try:
            yield
        except BaseException:
            for f, data in before.items():
                if data is None:
                    f.unlink(missing_ok=True)
                elif not f.exists() or f.read_bytes() != data:
                    atomic_write(f, data)
            raise


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
