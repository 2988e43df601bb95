"""`zagi clone URL [DIR]`: git clone, then make the env ready (a download when cached)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zagi.cache import reader
from zagi.core.errors import BadInput
from zagi.core.layout import Project, find_root
from zagi.drivers import git, nix
from zagi.env import sync
from zagi.env.progress import Progress
from zagi.env.result import SyncResult
from zagi.server import bucket


@dataclass
class CloneResult:
    dir: Path
    clone_ms: float
    sync: SyncResult | None  # None: the repository has no .zagi/ (and --init was not given)
    mirror: dict[str, Any] | None = None  # {"cache", "commit", "exact"}: .zagi/ from a mirror


def target_dir(url: str, dest: str | None) -> Path:
    if dest:
        return Path(dest)
    url = url.split("?", 1)[0]  # s3://BUCKET/PREFIX/NAME?endpoint=...
    name = re.sub(r"\.git$", "", url.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1])
    if not name:
        raise BadInput(f"cannot derive a directory name from {url!r}; give one")
    return Path(name)


def project_in(dest: Path) -> Project | None:
    root = find_root(dest)
    return Project(root) if root == dest.resolve() else None


def clone(url: str, dest: str | None, depth: int | None, *, caches: list[str], trust: list[str],
          infer: bool, progress: Progress, on_cloned: Callable[[float], None],
          allow_sources: list[str] | None = None, allow_unsandboxed: bool = False) -> CloneResult:
    """Clone, then sync; `on_cloned(ms)` once git is done (before the env work starts)."""
    t0 = time.perf_counter()
    dest_dir = target_dir(url, dest)
    if bucket.is_bucket_url(url):
        # A repository in a bucket: the source through git-remote-zagi, the env from the
        # binary cache beside it (still only with a key you trust).
        caches = [*caches, bucket.cache_url(url)]
        url = bucket.helper_url(url)
    elif (public := bucket.public_cache_of(url)) is not None:
        caches = [*caches, public]  # a public bucket over https: stock git, cache beside
    git.clone(url, dest_dir, depth)
    clone_ms = (time.perf_counter() - t0) * 1000
    on_cloned(clone_ms)
    proj = project_in(dest_dir)
    mirrored = None
    if proj is None and not infer:
        mirrored = _from_mirror(url, dest_dir, caches, trust)
        proj = project_in(dest_dir)
    if proj is None and infer:
        from zagi.project import init

        init.run(dest_dir.resolve())
        proj = project_in(dest_dir)
    if proj is None:
        return CloneResult(dest_dir, clone_ms, None)
    t1 = time.perf_counter()
    res = sync.sync(proj, nix.Options(), progress=progress,
                    caches=reader.configured(proj, caches, trust), allow_sources=allow_sources,
                    allow_unsandboxed=allow_unsandboxed)
    res.ms = (time.perf_counter() - t1) * 1000
    return CloneResult(dest_dir, clone_ms, res, mirrored)


def _from_mirror(url: str, dest: Path, caches: list[str], trust: list[str]) -> dict[str, Any] | None:
    """Write a mirror's .zagi/ into a clone that has none (kept out of git through
    .git/info/exclude, and marked in .zagi/from-mirror.json); what it says, or None."""
    import json

    from zagi.cache import mirrors as lookup
    from zagi.core.fsutil import atomic_write

    head = git.resolve(dest, "HEAD")
    if head is None:
        return None
    cfg = reader.configured(Project(dest.resolve()), caches, trust)
    found = lookup.find(url, head, cfg.urls)
    if found is None:
        return None
    zdir = dest / ".zagi"
    zdir.mkdir()
    atomic_write(zdir / "env.toml", found.env_toml)
    atomic_write(zdir / "env.lock", found.env_lock)
    said = {"cache": found.cache, "commit": found.commit, "exact": found.exact}
    atomic_write(zdir / "from-mirror.json", json.dumps(said, indent=2) + "\n")
    exclude = dest / ".git" / "info" / "exclude"
    if exclude.parent.is_dir():
        with exclude.open("a") as fh:
            fh.write("\n/.zagi/\n")  # the mirror's files are not the repository's
    return said
