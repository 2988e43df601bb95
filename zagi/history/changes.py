"""`zagi log` and `zagi diff`: git history with each commit's environment change.

A commit's env change is the difference of `.zagi/env.toml` and `.zagi/env.lock`
between its first parent and itself (envdiff.py). Cost is fixed, whatever the history:
one `git log` for the window of commits (with the .zagi/ files each one touched), two
`git cat-file` for the blobs of the commits that touched them, one for the notes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zagi.core import layout
from zagi.core.errors import BadInput
from zagi.core.fsutil import read_bounded
from zagi.drivers import git
from zagi.history import envdiff, provenance
from zagi.history.envdiff import Change, EnvState

__all__ = ["Diff", "Entry", "diff", "log", "working_state"]

FILES = (layout.ENV_TOML, layout.ENV_LOCK)
MAX_COMMITS = 10_000


@dataclass
class Entry:
    """One line of `zagi log`: a commit (or the working copy, sha None)."""

    sha: str | None
    author: str
    time: int
    subject: str
    changes: list[Change] = field(default_factory=list)
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"commit": self.sha, "short": self.sha[:8] if self.sha else "@",
                "author": self.author, "time": self.time, "subject": self.subject,
                "changes": [c.to_json() for c in self.changes],
                "env": [envdiff.render(c) for c in self.changes],
                "note": provenance.parse(self.note) if self.note else None}


def _spec(rev: str, name: str) -> str:
    return f"{rev}:{layout.ZAGI_DIR}/{name}"


def _state_at(blobs: dict[str, bytes | None], rev: str | None) -> EnvState:
    if rev is None:
        return envdiff.state(None, None)
    return envdiff.state(blobs.get(_spec(rev, layout.ENV_TOML)),
                         blobs.get(_spec(rev, layout.ENV_LOCK)))


def working_state(root: Path) -> EnvState:
    """The env as the files on disk say (uncommitted edits included)."""
    from zagi.formats.lockfile import MAX_LOCK_BYTES

    p = layout.Project(root)

    def read(path: Path, cap: int) -> bytes | None:
        return read_bounded(path, cap) if path.is_file() else None

    return envdiff.state(read(p.env_toml, 1 << 20), read(p.lock, MAX_LOCK_BYTES))


def log(root: Path, rev_range: str | None, n: int) -> tuple[Entry | None, list[Entry]]:
    """(the working copy's uncommitted env change or None, the commits newest first)."""
    if not 1 <= n <= MAX_COMMITS:
        raise BadInput(f"-n {n}: expected 1 to {MAX_COMMITS}")
    if not git.is_work_tree(root):
        raise BadInput(f"{root} is not a git work tree", hint="zagi log reads git history")
    commits = git.log(root, rev_range, n, layout.ZAGI_DIR)
    touched = [c for c in commits if any(f in FILES for f in c.touched)]
    touched_shas = {c.sha for c in touched}
    specs = []
    for c in touched:
        for rev in (c.sha, *c.parents[:1]):
            specs += [_spec(rev, name) for name in FILES]
    head = git.resolve(root, "HEAD")
    if rev_range is None and head:
        specs += [_spec(head, name) for name in FILES]
    blobs = git.blobs(root, sorted(set(specs)))
    notes = git.notes_show(root, [c.sha for c in commits])
    entries = []
    for c in commits:
        changes = []
        if c.sha in touched_shas:
            changes = envdiff.diff(_state_at(blobs, c.parents[0] if c.parents else None),
                                   _state_at(blobs, c.sha))
        entries.append(Entry(c.sha, c.author, c.time, c.subject, changes, notes.get(c.sha)))
    working = None
    if rev_range is None:
        now = envdiff.diff(_state_at(blobs, head), working_state(root))
        if now:
            working = Entry(None, "", 0, "(working copy)", now)
    return working, entries


@dataclass
class Diff:
    old: str
    new: str
    changes: list[Change]
    closure_bytes: tuple[int | None, int | None]  # this system's, where a lock has it

    def to_json(self) -> dict[str, Any]:
        return {"from": self.old, "to": self.new, "changes": [c.to_json() for c in self.changes],
                "env": [envdiff.render(c) for c in self.changes],
                "closure_bytes": {"from": self.closure_bytes[0], "to": self.closure_bytes[1]}}


def diff(root: Path, old: str | None, new: str | None, system: str) -> Diff:
    """OLD (default HEAD) against NEW (default: the working copy)."""
    if not git.is_work_tree(root):
        raise BadInput(f"{root} is not a git work tree", hint="zagi diff reads git history")
    old = old or "HEAD"
    states = []
    for rev in (old, new):
        if rev is None:
            states.append(working_state(root))
            continue
        sha = git.resolve(root, rev)
        if sha is None:
            raise BadInput(f"{rev!r}: no such revision")
        blobs = git.blobs(root, [_spec(sha, name) for name in FILES])
        states.append(_state_at(blobs, sha))
    a, b = states
    return Diff(old, new or "working copy", envdiff.diff(a, b),
                (a.closure_bytes.get(system), b.closure_bytes.get(system)))
