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


def realized(start: Path) -> tuple[str, str] | None:
    """(env id, out) when the project's env is exactly as the last sync left it, else None."""
    root = _project(start)
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
    return env_id, out


def run_env(env_id: str, base: dict[str, str]) -> dict[str, str] | None:
    """`base` with the env activated, from the activation data sync precomputed."""
    import json

    try:
        act = json.loads((store.env_dir(env_id) / "activate.json").read_text())
    except (OSError, ValueError):
        return None
    env = dict(base)
    for var, dirs in act["prepend"].items():
        old = env.get(var)
        env[var] = ":".join(dirs) + (f":{old}" if old else (":" if var == "MANPATH" else ""))
    env.update(act["set"])
    return env


def try_run(argv: list[str]) -> None:
    """`zagi run -- CMD...` on a realized env: exec CMD at once (returns only to fall back)."""
    if argv[:2] != ["run", "--"] or len(argv) < 3:
        return
    root = _project(Path.cwd())
    if root is None or (root / ZAGI_DIR / "secrets.enc").exists():
        return  # secrets need decrypting (pyrage): the full command does that
    found = realized(root)
    env = run_env(found[0], dict(os.environ)) if found else None
    if env is None:
        return
    from zagi.core.proc import replace_process

    assert found is not None
    store.touch_last_used(found[0])
    replace_process(argv[2:], env)


def try_cached(argv: list[str], t0: float) -> int | None:
    as_json = "--json" in argv
    rest = [a for a in argv if a not in ("sync", "--json", "--frozen")]
    if rest:
        return None  # options the fast path does not handle (-C, -v, ...)
    found = realized(Path.cwd())
    if found is None:
        return None
    env_id, out = found
    store.touch_last_used(env_id)
    ms = (time.perf_counter() - t0) * 1000
    if as_json:
        import json

        sys.stdout.write(json.dumps({"env_id": env_id, "out": out, "cached": True,
                                     "relocked": False, "built": [], "ms": round(ms, 1)}) + "\n")
    else:
        sys.stdout.write(f"Resolving env... cached ({ms:.0f} ms)\n")
    return 0
