"""The cached `zagi sync` and `zagi run`: answer without Nix and without heavy imports.

Stdlib plus zagi.core.layout and zagi.env.state/result (themselves stdlib-only). Returns
None whenever anything is not exactly as the last sync left it, and the full path
(zagi/env/sync.py through the CLI) takes over.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from zagi.core import layout
from zagi.env import state


def realized(start: Path) -> tuple[str, str] | None:
    """(env id, out) when the project's env is exactly as the last sync left it, else None."""
    root = layout.find_root(start)
    if root is None:
        return None
    project = layout.Project(root)
    synced = layout.read_synced(project)
    lock, spec = layout.read_regular(project.lock), layout.read_regular(project.env_toml)
    if lock is None or spec is None:
        return None  # the full command says what is wrong with them
    try:
        mounted = os.readlink(project.mount)
    except OSError:
        return None
    env_id, digest = layout.env_id_of(lock), layout.spec_digest(spec)
    out = layout.realized_out(env_id)
    if synced != (env_id, digest) or out is None or mounted != out \
            or state.read_activation(env_id, out) is None:
        return None
    return env_id, out


def run_env(env_id: str, out: str, base: dict[str, str],
            root: Path | None = None) -> dict[str, str] | None:
    """`base` with the env activated, from the activation data sync precomputed (None when
    that data is missing or fails its re-check: then a full sync rewrites it), plus the
    project's own activation (services' variables, venv) when `root` is given."""
    act = state.read_activation(env_id, out)
    if act is None:
        return None
    env = dict(base)
    layers = [act] + ([state.read_project_activation(root)] if root is not None else [])
    # The project's layer (its services' variables, its venv) goes on top, as the hooks
    # source it after the env's.
    for prepend, sets in layers:
        for var, dirs in prepend.items():
            old = env.get(var)
            env[var] = ":".join(dirs) + (f":{old}" if old else (":" if var == "MANPATH" else ""))
        env.update(sets)
    return env


def try_run(argv: list[str]) -> None:
    """`zagi run -- CMD...` on a realized env: exec CMD at once (returns only to fall back)."""
    if argv[:2] != ["run", "--"] or len(argv) < 3:
        return
    root = layout.find_root(Path.cwd())
    if root is None or layout.Project(root).secrets.exists():
        return  # secrets need decrypting (pyrage): the full command does that
    found = realized(root)
    env = run_env(found[0], found[1], dict(os.environ), root) if found else None
    if env is None:
        return
    from zagi.core.proc import replace_process

    assert found is not None
    state.touch_last_used(found[0])
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
    state.touch_last_used(env_id)
    ms = (time.perf_counter() - t0) * 1000
    if as_json:
        import json

        from zagi.env.result import SyncResult

        sys.stdout.write(json.dumps(SyncResult(env_id, out, cached=True, ms=ms).to_json()) + "\n")
    else:
        sys.stdout.write(f"Resolving env... cached ({ms:.0f} ms)\n")
    return 0
