"""One `zagi clone`-style env fetch, as its own process (so its start-up counts, as Nix's
does): find the env in the cache (signatures and lock checked) and get its closure
into the store (zagi/cache/importer.py). The store is Nix's default, e.g. NIX_REMOTE.

Usage: python bench/_fetch.py CACHE_URL PUBLIC_KEY PROJECT_DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

from zagi.cache import reader
from zagi.drivers import nix
from zagi.formats import lockfile


def main() -> int:
    url, key, project = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    lk = lockfile.read(project / ".zagi" / "env.lock")
    system = nix.current_system()
    entry = lk.system(system)
    assert entry is not None and entry.closure
    cfg = reader.CacheConfig([url], [key])
    said: list[str] = []
    offer = reader.find(lk.env_id_for(system), entry.closure, cfg, said)
    if offer is None:
        print("\n".join(said) or "the cache has no such env", file=sys.stderr)
        return 1
    reader.fetch(offer, cfg, nix.store_info())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
