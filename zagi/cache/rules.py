"""The rules that keep a binary cache consistent, written once for every writer
(`zagi publish` to storage, and `zagi cache serve` completing a Cachix push).

- A NAR is uploaded before the narinfo that names it.
- A narinfo is written only after the narinfos of all its references (the writer's
  order; the server checks it).
- A narinfo is never replaced: the first one wins, and a second one with another
  NarHash is refused (it would swap the contents of a store path under readers).
"""

from __future__ import annotations

from zagi.core.errors import Conflict
from zagi.formats.narinfo import NarInfo
from zagi.storage import Storage

__all__ = ["commit_narinfo", "reference_order"]


def commit_narinfo(storage: Storage, key: str, info: NarInfo) -> bool:
    """Write `info` at `key` unless it exists; True if written. Conflict if the existing
    one describes the path with another NarHash."""
    if storage.put_if_absent(key, info.render().encode()):
        return True
    existing = NarInfo.parse((storage.get(key) or b"").decode(errors="replace"),
                             f"{storage.url}/{key}")
    if existing.nar_hash != info.nar_hash:
        raise Conflict(f"{storage.url}/{key} already describes {info.store_path} with another "
                       f"NarHash ({existing.nar_hash}); refusing to overwrite it", url=storage.url)
    return False


def reference_order(paths: list[str], refs: dict[str, list[str]]) -> list[str]:
    """`paths` ordered so each comes after its references among `paths` (the others are
    already in the cache)."""
    wanted = set(paths)
    done: set[str] = set()
    order: list[str] = []

    def visit(p: str) -> None:
        if p in done:
            return
        done.add(p)
        for r in refs.get(p, []):
            if r != p and r in wanted:
                visit(r)
        order.append(p)

    for p in sorted(paths):
        visit(p)
    return order
