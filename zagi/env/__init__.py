"""The environment's life: lock (env.toml -> env.lock), sync (realize + mount; fastsync
for the cached case), state and result, trust (allow/deny), hook, run (run/shell/env),
agent, clone, gc (envs/gc), watch, catalog, doctor, progress.

Kept free of imports: the cached fast path imports parts of this package.
"""

__all__ = [
    "agent", "catalog", "clone", "doctor", "edit", "fastsync", "gc", "hook", "lock", "progress", "result",
    "run", "state", "sync", "trust", "watch"
]
