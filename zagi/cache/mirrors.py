"""The mirror index in a cache (written by mirror/worker.py), and the clone side: what a
mirror knows of a repository, read from the caches a user reads.

`zagi clone` of a repository without `.zagi/` asks each configured cache for
`mirrors/<host>/<owner>/<repo>/<commit>.json` (the cloned HEAD), then `latest.json`. An
entry is repository-reachable input from a cache: bounded, checked for shape, and only
its env.toml and env.lock are used — what they pin is still fetched only when signed by
a key the user trusts, and built under the untrusted-repository rules otherwise.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from zagi.core.errors import ZagiError
from zagi.storage import open_url

__all__ = ["MAX_ENTRY", "Mirrored", "entry_key", "find", "index_prefix", "known"]

MAX_ENTRY = 16 << 20


def index_prefix(url: str) -> str:
    """mirrors/<host>/<owner>/<repo> for a repository URL (a local path: host `file`)."""
    u = urlparse(url if "://" in url else f"file://{url}")
    parts = [p for p in u.path.split("/") if p]
    if len(parts) < 2:
        parts = ["_", *parts] if parts else ["_", "_"]
    repo = parts[-1].removesuffix(".git")
    return "/".join(["mirrors", u.hostname or "file", parts[-2], repo])


def entry_key(url: str, commit: str) -> str:
    return f"{index_prefix(url)}/{commit}.json"


@dataclass(frozen=True)
class Mirrored:
    cache: str  # the cache whose index had it
    commit: str  # the commit the mirror locked (== HEAD unless `exact` is False)
    exact: bool
    env_toml: str
    env_lock: str


def _entry(raw: bytes | None) -> dict[str, Any] | None:
    if raw is None or len(raw) > MAX_ENTRY:
        return None
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    ok = isinstance(data, dict) and data.get("status") == "published" and all(
        isinstance(data.get(k), str) for k in ("commit", "env_toml", "env_lock"))
    return data if ok else None


def find(url: str, head: str, caches: list[str]) -> Mirrored | None:
    """The mirror's entry for `head` in the first cache that has one; else the newest
    published commit a cache has (`exact` False); None when no cache mirrors the repo."""
    newest: Mirrored | None = None
    for cache in caches:
        try:
            store = open_url(cache)
            if (e := _entry(store.get(entry_key(url, head)))) is not None:
                return Mirrored(cache, e["commit"], True, e["env_toml"], e["env_lock"])
            if newest is None and (e := _entry(store.get(f"{index_prefix(url)}/latest.json"))):
                newest = Mirrored(cache, e["commit"], False, e["env_toml"], e["env_lock"])
        except ZagiError:
            continue  # an unreachable cache has nothing to say
    return newest


def known(url: str, cache: str) -> dict[str, Any]:
    """What one cache's mirror index says of a repository: the latest published commit and
    every commit it has an entry for (published or failed, with the error)."""
    store = open_url(cache)
    prefix = index_prefix(url)
    commits: list[dict[str, Any]] = []
    for key in store.list(prefix + "/"):
        name = key.rsplit("/", 1)[-1]
        if name == "latest.json" or not name.endswith(".json"):
            continue
        raw = store.get(key)
        try:
            data = json.loads(raw) if raw is not None and len(raw) <= MAX_ENTRY else None
        except (ValueError, RecursionError):
            data = None
        if isinstance(data, dict):
            commits.append({"commit": data.get("commit"), "status": data.get("status"),
                            "env_id": data.get("env_id"), "error": data.get("error"),
                            "timings": data.get("timings")})
    latest = _entry(store.get(f"{prefix}/latest.json"))
    return {"url": url, "cache": cache, "index": prefix,
            "latest": latest["commit"] if latest else None, "commits": commits}
