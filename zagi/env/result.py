"""What a sync reports, in one shape for every path that syncs (stdlib only).

The cached fast path (zagi/env/fastsync.py), the full sync (zagi/env/sync.py), `zagi
clone` and the CLI all build their `--json` from `SyncResult.to_json`, so the promised
keys (docs/cli.md) cannot drift apart between a cached and an uncached sync.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["SyncResult"]


@dataclass
class SyncResult:
    env_id: str
    out: str
    cached: bool  # True: the env was already realized and mounted; nothing was done
    relocked: bool = False
    built: list[str] = field(default_factory=list)  # what Nix really built
    fetched: list[str] = field(default_factory=list)  # what Nix fetched from a cache
    ms: float = 0.0
    source: str | None = None  # the binary cache the env came from, if any
    notes: list[str] = field(default_factory=list)  # caches skipped and why

    def to_json(self) -> dict[str, Any]:
        return {"env_id": self.env_id, "out": self.out, "cached": self.cached,
                "relocked": self.relocked, "built": self.built, "fetched": self.fetched,
                "source": self.source, "notes": self.notes, "ms": round(self.ms, 1)}
