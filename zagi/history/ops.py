"""The operation log: every zagi command that changes a project is recorded, and undoable.

An operation is the command line, the time, and the before/after of the project's
`.zagi/` files (env.toml, env.lock, config.toml, recipients, secrets.enc; by content
hash) and of the `.zagi/env` symlink. Records live outside git, under
`$ZAGI_HOME/ops/<project key>/`: `NNNNNN.json` per operation and `blobs/<sha256>` for
file contents (secrets.enc is ciphertext, as in the repository; argv never holds a
secret: `zagi secrets set` reads values from a prompt or stdin).

`undo` restores the files as they were before the last operation that changed them (an
operation that only moved `.zagi/env` — a sync — is derived: the env follows the files
again), and is itself an operation, so an undo of an undo restores what it took away.
`restore ID` returns to the state right after operation ID. Neither touches a file
outside `.zagi/`. A command that fails records nothing (its edits are all-or-nothing
already). The newest `KEEP` operations are kept; blobs no record uses are deleted when
the log is pruned.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zagi.core import layout
from zagi.core.errors import BadInput
from zagi.core.fsutil import atomic_write, read_bounded

__all__ = ["KEEP", "Op", "history", "project_key", "recorded", "restore", "snapshot", "undo"]

KEEP = 200
MAX_FILE = 64 << 20  # a .zagi/ file bigger than this is not snapshotted: such an op cannot be undone
FILES = (layout.ENV_TOML, layout.ENV_LOCK, layout.CONFIG_TOML, layout.RECIPIENTS_FILE,
         layout.SECRETS_FILE)
_TOO_BIG = "too-big"

State = dict[str, str | None]  # file name (and "env" for the symlink) -> blob hash / target


@dataclass(frozen=True)
class Op:
    seq: int
    time: float
    argv: list[str]
    before: State
    after: State

    @property
    def id(self) -> str:
        return f"{self.seq:06d}"

    def to_json(self) -> dict[str, Any]:
        changed = sorted(k for k in set(self.before) | set(self.after)
                         if self.before.get(k) != self.after.get(k))
        return {"id": self.id, "time": self.time, "argv": self.argv, "changed": changed,
                "before": self.before, "after": self.after}


def project_key(root: Path) -> str:
    return hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]


def _dir(root: Path) -> Path:
    return layout.zagi_home() / "ops" / project_key(root)


def snapshot(root: Path) -> tuple[State, dict[str, bytes]]:
    """(file -> content hash or None, hash -> content) of the project's .zagi/ now."""
    zagi_dir = root / layout.ZAGI_DIR
    state: State = {}
    contents: dict[str, bytes] = {}
    for name in FILES:
        path = zagi_dir / name
        if not path.is_file() or path.is_symlink():
            state[name] = None
            continue
        if path.stat().st_size > MAX_FILE:
            state[name] = _TOO_BIG
            continue
        data = read_bounded(path, MAX_FILE)
        digest = hashlib.sha256(data).hexdigest()
        state[name], contents[digest] = digest, data
    try:
        state["env"] = os.readlink(zagi_dir / layout.MOUNT)
    except OSError:
        state["env"] = None
    return state, contents


def history(root: Path) -> list[Op]:
    """The project's operations, oldest first."""
    d = _dir(root)
    ops = []
    for path in sorted(d.glob("[0-9]*.json")) if d.is_dir() else []:
        try:
            raw = json.loads(read_bounded(path, 1 << 20))
            ops.append(Op(int(raw["seq"]), float(raw["time"]), list(raw["argv"]),
                          dict(raw["before"]), dict(raw["after"])))
        except (ValueError, KeyError, TypeError, OSError):
            continue  # a damaged record is skipped, not fatal to the log
    return ops


def _write(root: Path, argv: list[str], before: State, after: State,
           contents: dict[str, bytes]) -> Op:
    d = _dir(root)
    (d / "blobs").mkdir(parents=True, exist_ok=True)
    for digest, data in contents.items():
        blob = d / "blobs" / digest
        if not blob.exists():
            atomic_write(blob, data, mode=0o600)
    past = history(root)
    op = Op((past[-1].seq + 1) if past else 1, time.time(), argv, before, after)
    record = {"seq": op.seq, "time": op.time, "argv": argv, "root": str(root.resolve()),
              "before": before, "after": after}
    atomic_write(d / f"{op.id}.json", json.dumps(record, indent=1) + "\n", mode=0o600)
    _prune(d, [*past, op])
    return op


def _prune(d: Path, ops: list[Op]) -> None:
    if len(ops) <= KEEP:
        return
    for op in ops[:-KEEP]:
        (d / f"{op.id}.json").unlink(missing_ok=True)
    used = {v for op in ops[-KEEP:] for s in (op.before, op.after) for v in s.values() if v}
    for blob in (d / "blobs").iterdir():
        if blob.name not in used:
            blob.unlink(missing_ok=True)


@contextlib.contextmanager
def recorded(root: Path, argv: list[str]) -> Iterator[None]:
    """Record the command as an operation if it changed the project's .zagi/ — also when
    it then failed (a checkout whose env could not follow still moved .zagi/); a command
    that failed without changing anything (edits are all-or-nothing) records nothing."""
    before, old = snapshot(root)
    try:
        yield
    finally:
        after, new = snapshot(root)
        if after != before:
            _write(root, argv, before, after, {**old, **new})


def _apply(root: Path, target: State) -> list[str]:
    """Put the .zagi/ files back as `target` says (checked restorable first, so nothing is
    half-restored for a missing blob); the names of the files changed."""
    d = _dir(root) / "blobs"
    for name in FILES:
        want = target.get(name)
        if want == _TOO_BIG:
            raise BadInput(f"that state has a .zagi/{name} too big to have been recorded; "
                           "nothing was restored")
        if want and not (d / want).is_file():
            raise BadInput(f"the recorded content of .zagi/{name} is gone from the operation "
                           "log; nothing was restored")
    now, _ = snapshot(root)
    changed = []
    for name in FILES:
        want = target.get(name)
        if now.get(name) == want:
            continue
        path = root / layout.ZAGI_DIR / name
        if want is None:
            path.unlink(missing_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, read_bounded(d / want, MAX_FILE))
        changed.append(name)
    return changed


def _changes_files(op: Op) -> bool:
    return any(op.before.get(name) != op.after.get(name) for name in FILES)


def undo(root: Path) -> list[str]:
    """Put .zagi/ back as it was before the last operation that changed its files (a sync
    that only moved `.zagi/env` is derived state: the env follows the files again); the
    files changed. The CLI records the undo as an operation, so undoing it redoes."""
    ops = [op for op in history(root) if _changes_files(op)]
    if not ops:
        raise BadInput("no operation to undo in this project",
                       hint="zagi records init, add, remove, lock, sync, ... as you run them")
    return _restore_to(root, ops[-1].before)


def restore(root: Path, op_id: str) -> list[str]:
    """Put .zagi/ back as it was right after operation `op_id`; the files changed."""
    match = [op for op in history(root) if op.id == op_id or str(op.seq) == op_id]
    if not match:
        raise BadInput(f"no operation {op_id!r} in this project", hint="see `zagi op log`")
    return _restore_to(root, match[0].after)


def _restore_to(root: Path, target: State) -> list[str]:
    return _apply(root, target)
