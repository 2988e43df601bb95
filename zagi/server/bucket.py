"""A git repository in object storage, in git's own "dumb HTTP" layout (docs/server.md).

    <name>.git/HEAD                         "ref: refs/heads/main"
    <name>.git/info/refs                    "<sha>\t<ref>" lines   (derived)
    <name>.git/objects/info/packs           "P pack-<sha>.pack"    (derived)
    <name>.git/objects/pack/pack-<sha>.pack + .idx                 (immutable)
    <name>.git/zagi-state.json              refs + packs: the one mutable truth

Plain git clones it over HTTP with no zagi anywhere (a CDN can serve it: packs never
change). Refs change only by a conditional write of zagi-state.json, after the packs
they need are uploaded; the derived files follow and readers tolerate them being
briefly behind. So two pushers racing on a branch: one wins, the other re-reads and is
told "fetch first"; a push killed at any point leaves either the old refs or the new
ones, never a ref to an object the bucket lacks.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

from zagi.core.errors import BadInput, ZagiError
from zagi.storage import Storage, open_url

STATE = "zagi-state.json"
FORMAT = 1
MAX_STATE = 16 << 20


@dataclass
class State:
    refs: dict[str, str] = field(default_factory=dict)
    head: str | None = None  # the symbolic HEAD, "refs/heads/main"
    packs: dict[str, dict[str, Any]] = field(default_factory=dict)  # pack-<sha> -> tips, size
    etag: str | None = None  # None: no state yet (put_if_absent)
    # pack-<sha> -> when gc stopped listing it (or first saw it unlisted): deleted after a
    # grace period, so a reader that read the old pack list still finds every pack.
    retired: dict[str, int] = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        return json.dumps({"format": FORMAT, "refs": self.refs, "head": self.head,
                           "packs": self.packs, "retired": self.retired},
                          indent=1, sort_keys=True).encode() + b"\n"


@dataclass(frozen=True)
class Remote:
    """One repository in a bucket: `store` is the bucket (or directory), `repo` the key
    prefix `<name>.git/` inside it."""

    store: Storage
    repo: str

    def key(self, rel: str) -> str:
        return f"{self.repo}/{rel}"

    def read(self) -> State:
        got = self.store.get_etag(self.key(STATE))
        if got is None:
            return State()
        raw, etag = got
        if len(raw) > MAX_STATE:
            raise BadInput(f"{self.key(STATE)} is larger than {MAX_STATE} bytes")
        try:
            doc = json.loads(raw)
            refs, packs = doc["refs"], doc["packs"]
            if doc.get("format") != FORMAT or not isinstance(refs, dict) or not isinstance(packs, dict):
                raise ValueError("unexpected shape")
        except (ValueError, KeyError, TypeError, RecursionError) as exc:
            raise BadInput(f"{self.key(STATE)} is not a zagi repository state ({exc})") from None
        return State({str(k): str(v) for k, v in refs.items()}, doc.get("head"),
                     {str(k): dict(v) for k, v in packs.items()}, etag,
                     {str(k): int(v) for k, v in (doc.get("retired") or {}).items()})

    def write(self, state: State) -> bool:
        """The conditional write every ref change goes through; False when someone else
        changed the state since `state` was read."""
        data = state.to_bytes()
        if state.etag is None:
            return self.store.put_if_absent(self.key(STATE), data)
        return self.store.put_if_match(self.key(STATE), data, state.etag)

    def publish_derived(self, state: State) -> None:
        """What plain git reads: the pack list before the refs (a reader that sees a ref
        finds its pack listed), HEAD last."""
        packs = "".join(f"P {name}.pack\n" for name in sorted(state.packs)) + "\n"
        self.store.put(self.key("objects/info/packs"), packs.encode())
        refs = "".join(f"{sha}\t{ref}\n" for ref, sha in sorted(state.refs.items()))
        self.store.put(self.key("info/refs"), refs.encode())
        if state.head:
            self.store.put(self.key("HEAD"), f"ref: {state.head}\n".encode())


def download_pack(remote: Remote, gitdir: Path, name: str) -> None:
    """Fetch one listed pack into a repository: every object checked by `git index-pack`
    (a bucket is not trusted to hold what it names), then the pack and its index moved
    in, the pack first (git finds a pack by its .idx)."""
    import os
    import tempfile

    from zagi.drivers import git

    data = remote.store.get(remote.key(f"objects/pack/{name}.pack"))
    if data is None:
        raise ZagiError(f"{name}.pack is listed but not in the bucket",
                        hint="the repository is mid-gc or damaged; retry")
    packdir = gitdir / "objects" / "pack"
    packdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=packdir, prefix=".zagi-fetch-") as tmp:
        pack = Path(tmp) / "incoming.pack"
        pack.write_bytes(data)
        sha = git.index_pack(gitdir, pack)
        if f"pack-{sha}" != name:
            raise ZagiError(f"{name}.pack in the bucket is not the pack it names (its content "
                            f"is pack-{sha}); refusing it")
        os.replace(pack, packdir / f"{name}.pack")
        os.replace(Path(tmp) / "incoming.idx", packdir / f"{name}.idx")


def new_pack_entry(tips: list[str], size: int) -> dict[str, Any]:
    return {"tips": sorted(set(tips)), "size": size, "created": int(time.time())}


def open_remote(url: str) -> Remote:
    """zagi::s3://BUCKET/PREFIX/NAME[?endpoint=...] or zagi::file:///DIR/NAME: the bucket
    (or directory) up to PREFIX, and NAME.git inside it."""
    u = urlparse(url.removeprefix("zagi::"))
    if u.scheme not in ("s3", "file", "memory"):
        raise BadInput(f"{url}: expected s3://BUCKET/PREFIX/NAME or file:///DIR/NAME")
    path = u.path.rstrip("/")
    parent, _, name = path.rpartition("/")
    name = name.removesuffix(".git")
    if not name or name in (".", ".."):
        raise BadInput(f"{url}: no repository name at the end of the path")
    base = urlunparse((u.scheme, u.netloc, parent or ("/" if u.scheme == "file" else ""),
                       "", u.query, ""))
    return Remote(open_url(base), f"{name}.git")


def is_bucket_url(url: str) -> bool:
    """A URL `zagi clone`/`zagi push` treat as a bucket repository."""
    return url.startswith(("zagi::", "s3://"))


def public_cache_of(url: str) -> str | None:
    """For an http(s) URL of a repository in a public bucket (stock git clones it over
    dumb HTTP), the binary cache beside it; None for any other git URL. One GET of the
    repository's own state object tells them apart."""
    u = urlparse(url)
    if u.scheme not in ("http", "https") or not u.path.rstrip("/").endswith(".git"):
        return None
    from zagi.core.errors import StorageError
    from zagi.storage.http import Http

    base = url.rstrip("/")
    try:
        if not Http(base).exists(STATE):
            return None
    except StorageError:
        return None
    return base.rpartition("/")[0]


def helper_url(url: str) -> str:
    """What git is given: the `zagi::` form that makes it run git-remote-zagi."""
    return url if url.startswith("zagi::") else f"zagi::{url}"


def cache_url(url: str) -> str:
    """The binary cache beside a bucket repository: the bucket (or directory) it is in,
    with the same endpoint options, where every repository's envs live (shared paths
    are stored once)."""
    u = urlparse(url.removeprefix("zagi::"))
    parent = u.path.rstrip("/").rpartition("/")[0]
    return urlunparse((u.scheme, u.netloc, parent, "", u.query, ""))


def repo_name(url: str) -> str:
    return urlparse(url.removeprefix("zagi::")).path.rstrip("/").rpartition("/")[2] \
        .removesuffix(".git")
