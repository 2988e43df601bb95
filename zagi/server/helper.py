"""`git-remote-zagi`: git's remote-helper protocol over a bucket (zagi/server/bucket.py).

git runs `git-remote-zagi REMOTE URL` for `zagi::URL` remotes and talks on stdin/stdout
(gitremote-helpers(7)): `capabilities`, `list [for-push]`, batches of `fetch SHA REF`
and `push [+]SRC:DST`, each batch ended by a blank line. A push uploads one pack of
exactly the objects the remote lacks (`git pack-objects --revs`, excluding every remote
tip we have), then moves the refs with one conditional write, re-checking fast-forwards
against what won if another pusher got there first. A fetch downloads only the packs
whose tips we lack, and `git index-pack` checks every object of each.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from zagi.core.errors import ZagiError
from zagi.drivers import git
from zagi.server.bucket import Remote, State, download_pack, new_pack_entry, open_remote

MAX_CAS_TRIES = 20


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 2:
        sys.stderr.write("usage: git-remote-zagi REMOTE URL (git runs it for zagi::URL)\n")
        return 2
    # git sets GIT_DIR for its helpers, maybe relative: absolute, so the git driver's
    # `-C` cannot shift it.
    gitdir = Path(os.environ.get("GIT_DIR", ".git")).resolve()
    os.environ["GIT_DIR"] = str(gitdir)
    try:
        Helper(open_remote(args[1]), gitdir, sys.stdout).serve(sys.stdin)
    except ZagiError as exc:
        sys.stderr.write(f"fatal: zagi remote: {exc.message}\n")
        return 1
    return 0


class Helper:
    def __init__(self, remote: Remote, gitdir: Path, out: TextIO) -> None:
        self.remote = remote
        self.gitdir = gitdir
        self.out = out
        self.state: State | None = None

    def say(self, text: str) -> None:
        self.out.write(text)
        self.out.flush()

    def serve(self, lines: TextIO) -> None:
        batch: list[str] = []
        handlers: dict[str, Callable[[list[str]], None]] = {"fetch": self.fetch,
                                                             "push": self.push}
        for raw in lines:
            line = raw.rstrip("\n")
            if batch and not line:
                handlers[batch[0].split(" ", 1)[0]](batch)
                batch = []
            elif line == "capabilities":
                self.say("fetch\npush\noption\n\n")
            elif line.startswith("list"):
                self.list_refs()
            elif line.startswith("option "):
                self.say("unsupported\n")
            elif line.startswith(("fetch ", "push ")):
                batch.append(line)
            elif not line:
                return  # git closes the conversation with a blank line

    def list_refs(self) -> None:
        self.state = self.remote.read()
        out = [f"{sha} {ref}\n" for ref, sha in sorted(self.state.refs.items())]
        if self.state.head and self.state.head in self.state.refs:
            out.append(f"@{self.state.head} HEAD\n")
        self.say("".join(out) + "\n")

    # --- fetch ------------------------------------------------------------------------

    def fetch(self, batch: list[str]) -> None:
        state = self.state or self.remote.read()
        wanted = [ln.split()[1] for ln in batch]
        # Decided before anything is downloaded: a pack holds only objects reachable from
        # its tips, and a tip git already has comes with all its history, so a pack whose
        # tips are all here has nothing new. (Checked after a download, a tip could be
        # here while its ancestors, in another pack, are not.)
        needed = [name for name, info in sorted(state.packs.items())
                  if not all(git.has_object(self.gitdir, t) for t in info.get("tips", []))]
        for name in needed:
            self._download(name)
        missing = [s for s in wanted if not git.has_object(self.gitdir, s)]
        if missing:
            raise ZagiError(f"the bucket's packs do not hold {missing[0]}",
                            hint="the repository in the bucket is damaged or mid-gc; retry")
        self.say("\n")

    def _download(self, name: str) -> None:
        download_pack(self.remote, self.gitdir, name)

    # --- push -------------------------------------------------------------------------

    def push(self, batch: list[str]) -> None:
        updates: list[tuple[str, str | None, bool]] = []  # dst, new sha (None: delete), force
        for ln in batch:
            spec = ln.split(" ", 1)[1]
            force = spec.startswith("+")
            src, _, dst = spec.lstrip("+").partition(":")
            new = git.resolve(self.gitdir, src) if src else None
            updates.append((dst, new, force))
        state = self.state or self.remote.read()
        pack = self._upload(state, [n for _, n, _ in updates if n])
        results: dict[str, str] = {}
        for _ in range(MAX_CAS_TRIES):
            results = self._apply(state, updates, pack)
            if not any(r == "ok" for r in results.values()) or self.remote.write(state):
                break
            state = self.remote.read()  # another pusher won the race: check again
        else:
            results = {dst: "error contended; retry the push" for dst, _, _ in updates}
        if any(r == "ok" for r in results.values()):
            self.remote.publish_derived(state)
        self.state = state
        self.say("".join(f"ok {dst}\n" if r == "ok" else f"error {dst} {r}\n"
                         for dst, r in results.items()) + "\n")

    def _upload(self, state: State, tips: list[str]) -> tuple[str, dict[str, object]] | None:
        """One pack of what the remote lacks, uploaded before any ref can point into it."""
        have = [s for s in set(state.refs.values()) if git.has_object(self.gitdir, s)]
        with tempfile.TemporaryDirectory(prefix="zagi-push-") as tmp:
            sha = git.pack_objects(self.gitdir, tips, have, Path(tmp) / "pack")
            if sha is None:
                return None
            name = f"pack-{sha}"
            pack, idx = Path(tmp) / f"pack-{sha}.pack", Path(tmp) / f"pack-{sha}.idx"
            self.remote.store.put_file(self.remote.key(f"objects/pack/{name}.pack"), pack)
            self.remote.store.put_file(self.remote.key(f"objects/pack/{name}.idx"), idx)
            return name, new_pack_entry(tips, pack.stat().st_size)

    def _apply(self, state: State, updates: list[tuple[str, str | None, bool]],
               pack: tuple[str, dict[str, object]] | None) -> dict[str, str]:
        """Apply git's rules for each update to `state` (in place); dst -> "ok" or why not."""
        results: dict[str, str] = {}
        for dst, new, force in updates:
            old = state.refs.get(dst)
            if new is None:
                if old is not None:
                    del state.refs[dst]
                results[dst] = "ok"
                continue
            if old is not None and old != new and not force:
                if not git.has_object(self.gitdir, old):
                    results[dst] = "fetch first"
                    continue
                if not git.is_ancestor(self.gitdir, old, new):
                    results[dst] = "non-fast-forward"
                    continue
            state.refs[dst] = new
            results[dst] = "ok"
        if pack is not None and any(r == "ok" for r in results.values()):
            state.packs[pack[0]] = dict(pack[1])
        if state.head is None or state.head not in state.refs:
            heads = sorted(r for r in state.refs if r.startswith("refs/heads/"))
            main = next((h for h in ("refs/heads/main", "refs/heads/master") if h in heads), None)
            state.head = main or (heads[0] if heads else None)
        return results
