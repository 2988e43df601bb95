"""`.zagi/env.lock`: the resolved, content-hashed environment (format documented in docs/env-lock.md).

Canonical JSON (sorted keys, two-space indent, trailing newline) so diffs are small
and the env id — sha256 of exactly these bytes — is the same on every machine for
the same lock. Reading never rewrites; writing is atomic.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zagi.core.errors import BadInput
from zagi.core.fsutil import atomic_write

LOCK_VERSION = 1
MAX_LOCK_BYTES = 64 << 20


def canonical(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def env_id_of(raw: bytes) -> str:
    """The env id: sha256 of the canonical lock bytes, 32 hex digits."""
    return hashlib.sha256(raw).hexdigest()[:32]


@dataclass
class Lock:
    data: dict[str, Any]
    path: Path

    @property
    def env_id(self) -> str:
        return env_id_of(canonical(self.data))

    @property
    def spec_hash(self) -> str:
        return str(self.data.get("spec_hash", ""))

    def packages(self) -> dict[str, dict[str, Any]]:
        pkgs: dict[str, dict[str, Any]] = self.data.get("packages", {})
        return pkgs

    def system(self, system: str) -> dict[str, Any] | None:
        s: dict[str, Any] | None = self.data.get("systems", {}).get(system)
        return s


def read(path: Path) -> Lock:
    """Parse and sanity-check a lock; a corrupt file is BadInput naming what is wrong."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise BadInput("does not exist", hint="run `zagi lock`", file=str(path)) from None
    if len(raw) > MAX_LOCK_BYTES:
        raise BadInput("lock file is implausibly large", file=str(path))
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        raise BadInput(f"not valid JSON ({exc.msg if hasattr(exc, 'msg') else exc}); "
                       "expected a lock written by `zagi lock`", file=str(path), line=line,
                       hint="regenerate it with `zagi lock`") from None
    _validate(data, str(path))
    return Lock(data, path)


def _validate(data: Any, file: str) -> None:
    def bad(msg: str) -> BadInput:
        return BadInput(f"{msg}; expected a lock written by `zagi lock`", file=file,
                        hint="regenerate it with `zagi lock`")

    if not isinstance(data, dict):
        raise bad("not a JSON object")
    if data.get("lock_version") != LOCK_VERSION:
        raise bad(f"lock_version {data.get('lock_version')!r} is not {LOCK_VERSION}")
    for key in ("spec_hash", "packages", "nixpkgs", "systems"):
        if key not in data:
            raise bad(f"missing {key!r}")
    for sysname, sysdata in data["systems"].items():
        if not isinstance(sysdata, dict) or not str(sysdata.get("out", "")).startswith("/nix/store/"):
            raise bad(f"systems.{sysname}.out is not a store path")
        for i, p in enumerate(sysdata.get("closure", [])):
            if not (isinstance(p, dict) and str(p.get("path", "")).startswith("/nix/store/")
                    and str(p.get("narHash", "")).startswith("sha256:")
                    and isinstance(p.get("narSize"), int)):
                raise bad(f"systems.{sysname}.closure[{i}] needs path, narHash (sha256:…) "
                          "and narSize")


def write(path: Path, data: dict[str, Any]) -> Lock:
    atomic_write(path, canonical(data))
    return Lock(data, path)
