"""The cached `zagi sync`: answer "already realized" without Nix and without heavy imports.

Stdlib plus zagi.core.paths/store (themselves stdlib-only). Returns None whenever
anything is not exactly as the last sync left it, and the full path takes over.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from pathlib import Path

from zagi.core import store
from zagi.core.paths import ENV_LOCK, ENV_TOML, ZAGI_DIR


def _project(start: Path) -> Path | None:
    here = start.resolve()
    for d in (here, *here.parents):
        if (d / ZAGI_DIR / ENV_TOML).is_file():
            return d
    return None


def try_cached(argv: list[str], t0: float) -> int | None:
    as_json = "--json" in argv
    rest = [a for a in argv if a not in ("sync", "--json", "--frozen")]
    if rest:
        return None  # options the fast path does not handle (-C, -v, ...)
    root = _project(Path.cwd())
    if root is None:
        return None
    zdir = root / ZAGI_DIR
    try:
        env_id = hashlib.sha256((zdir / ENV_LOCK).read_bytes()).hexdigest()[:32]
        synced_id, synced_spec = (zdir / ".synced").read_text().split()
        spec_digest = hashlib.sha256((zdir / ENV_TOML).read_bytes()).hexdigest()
        mounted = os.readlink(zdir / "env")
    except (OSError, ValueError):
        return None
    out = store.realized_out(env_id)
    if synced_id != env_id or synced_spec != spec_digest or out is None or mounted != out:
        return None
    store.touch_last_used(env_id)
    ms = (time.perf_counter() - t0) * 1000
    if as_json:
        import json

        sys.stdout.write(json.dumps({"env_id": env_id, "out": out, "cached": True,
                                     "relocked": False, "built": [], "ms": round(ms, 1)}) + "\n")
    else:
        sys.stdout.write(f"Resolving env... cached ({ms:.0f} ms)\n")
    return 0
