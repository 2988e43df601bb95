"""`zagi server gc URL`: many small packs into one, and garbage deleted after a grace period.

Every push adds a pack, so a busy repository's clone downloads many. gc downloads them
(each checked by index-pack), packs everything the refs reach into one, uploads it, and
swaps the pack list with one conditional write (a push that lands meanwhile wins; gc
then does nothing and says to run again). The packs it stopped listing, and packs no
state lists (a push killed after its upload), are marked retired with the time and
deleted only by a later gc once the grace period has passed: a reader that fetched the
old pack list a moment ago still finds every pack it names.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from zagi.drivers import git
from zagi.server.bucket import Remote, State, download_pack, new_pack_entry

GRACE = 3600


@dataclass
class GcResult:
    packs_before: int
    packs_after: int
    repacked: bool = False
    retired: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    busy: bool = False  # a push changed the state meanwhile: nothing swapped


def gc(remote: Remote, grace: float = GRACE, now: float | None = None) -> GcResult:
    now = time.time() if now is None else now
    state = remote.read()
    res = GcResult(len(state.packs), len(state.packs))
    if len(state.packs) > 1:
        new = _repack(remote, state)
        # A listed pack is not retired, whatever an earlier gc thought (a push may have
        # listed a pack gc had taken for an orphan): its grace starts now.
        swapped = State(dict(state.refs), state.head, {new[0]: new[1]}, state.etag,
                        {n: t for n, t in state.retired.items() if n not in state.packs})
        for old in state.packs:
            if old != new[0]:
                swapped.retired[old] = int(now)
        if not remote.write(swapped):
            res.busy = True
            return res
        remote.publish_derived(swapped)
        res.repacked, res.packs_after = True, 1
        res.retired = sorted(set(swapped.retired) - set(state.retired))
        state = remote.read()
    _retire_orphans(remote, state, now, res)
    _delete_expired(remote, now, grace, res)
    return res


def _repack(remote: Remote, state: State) -> tuple[str, dict[str, object]]:
    tips = sorted(set(state.refs.values()))
    with tempfile.TemporaryDirectory(prefix="zagi-gc-") as tmp:
        bare = Path(tmp) / "repo.git"
        git.init_bare(bare)
        for name in sorted(state.packs):
            download_pack(remote, bare, name)
        sha = git.pack_objects(bare, tips, [], Path(tmp) / "pack")
        assert sha is not None  # the refs reach at least their own commits
        name = f"pack-{sha}"
        pack = Path(tmp) / f"{name}.pack"
        remote.store.put_file(remote.key(f"objects/pack/{name}.pack"), pack)
        remote.store.put_file(remote.key(f"objects/pack/{name}.idx"), Path(tmp) / f"{name}.idx")
        return name, new_pack_entry(tips, pack.stat().st_size)


def _retire_orphans(remote: Remote, state: State, now: float, res: GcResult) -> None:
    stored = {Path(k).stem for k in remote.store.list(remote.key("objects/pack/"))
              if k.endswith((".pack", ".idx"))}
    orphans = sorted(stored - set(state.packs) - set(state.retired))
    if not orphans:
        return
    for name in orphans:
        state.retired[name] = int(now)
    if remote.write(state):
        res.retired += orphans
    else:
        res.busy = True


def _delete_expired(remote: Remote, now: float, grace: float, res: GcResult) -> None:
    """Delete retired packs past the grace period; the state forgets them only after."""
    state = remote.read()
    expired = sorted(n for n, t in state.retired.items()
                     if now - t >= grace and n not in state.packs)
    for name in expired:
        for ext in (".idx", ".pack"):  # the index first: a pack without one is invisible
            remote.store.delete(remote.key(f"objects/pack/{name}{ext}"))
    if not expired:
        return
    for name in expired:
        del state.retired[name]
    if remote.write(state):
        res.deleted = expired
    else:
        res.busy = True
