"""The closure of store paths read from the narinfos of the caches Nix uses.

How `zagi lock --system S` pins another platform without building there: the env's
packages for S are evaluated (not built), and each one's closure (paths, NarHash,
NarSize, references) is read from the substituters in Nix's configuration — the ones
Nix itself would fetch from on S — checking every narinfo's signature against Nix's
trusted-public-keys. Only the env's own output (a buildEnv of symlinks, built in a
second wherever it is used) is not in any cache; the lock marks that entry `partial`.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from zagi.core.errors import ZagiError
from zagi.drivers import nix
from zagi.formats import narinfo
from zagi.formats.lockfile import PathInfo
from zagi.formats.narinfo import NarInfo
from zagi.storage import Readable, open_url

__all__ = ["MAX_PATHS", "closure", "have"]

MAX_PATHS = 50_000  # a closure bigger than any real env: a loop or a hostile cache
_FETCHERS = 8


def _caches(store: nix.StoreInfo) -> list[Readable]:
    out: list[Readable] = []
    for url in store.substituters:
        base = url.split("?", 1)[0]  # Nix store parameters (?priority=40) are not the URL
        if base.startswith(("http://", "https://", "file://", "s3://")):
            out.append(open_url(base))
    return out


def _one(caches: list[Readable], keys: list[str], path: str) -> NarInfo | None:
    """The first signed narinfo of `path` in the caches, in Nix's order."""
    from zagi.cache.reader import signed_narinfo

    for cache in caches:
        found = signed_narinfo(cache, path, keys)
        if not isinstance(found, str):
            return found[0]
    return None


def closure(paths: list[str], store: nix.StoreInfo) -> tuple[PathInfo, ...]:
    """Every path reachable from `paths`, with NarHash and NarSize, sorted; ZagiError
    naming the first path no configured cache has (signed by a key Nix trusts)."""
    caches, keys = _caches(store), list(store.trusted_public_keys)
    if not caches:
        raise ZagiError("Nix is configured with no binary cache zagi can read "
                        f"(substituters: {' '.join(store.substituters) or 'none'})")
    seen: dict[str, NarInfo] = {}
    todo = sorted(set(paths))
    with ThreadPoolExecutor(_FETCHERS) as pool:
        while todo:
            if len(seen) + len(todo) > MAX_PATHS:
                raise ZagiError(f"the closure has more than {MAX_PATHS} paths; refusing")
            found = list(pool.map(lambda p: _one(caches, keys, p), todo))
            nxt: set[str] = set()
            for path, info in zip(todo, found, strict=True):
                if info is None:
                    raise ZagiError(f"{path} is in no cache Nix uses, signed by a key it "
                                    f"trusts ({', '.join(c.url for c in caches)})")
                seen[path] = info
                nxt.update(f"{narinfo.STORE_DIR}/{r}" for r in info.references)
            todo = sorted(nxt - set(seen))
    return tuple(PathInfo(p, i.nar_hash, i.nar_size) for p, i in sorted(seen.items()))


def have(paths: list[str], store: nix.StoreInfo) -> set[str]:
    """The paths the caches Nix uses already hold (signed by a key Nix trusts): what a
    publish need not upload, as cachix skips what its upstreams have. A cache that cannot
    be reached holds nothing."""
    from zagi.core.errors import ZagiError

    caches, keys = _caches(store), list(store.trusted_public_keys)
    if not caches or not paths:
        return set()

    def one(path: str) -> bool:
        try:
            return _one(caches, keys, path) is not None
        except ZagiError:
            return False

    with ThreadPoolExecutor(_FETCHERS) as pool:
        return {p for p, there in zip(paths, pool.map(one, paths), strict=True) if there}
