"""The environment change between two revisions of `.zagi/`: pure, from file bytes.

Read leniently on purpose: history holds env.toml and env.lock files written by older
zagi versions, by hand, or broken; a revision that does not parse contributes what it
can (nothing, at worst) instead of failing `zagi log` for the whole history. Reading is
bounded like every other reader (the bytes come from git objects, capped by the caller).

A change is one record: kind ("tool", "system", "service", "env"), op ("+", "-", "~"),
name, and the versions (resolved ones from the lock when it has them, else the request).
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from typing import Any

__all__ = ["Change", "EnvState", "diff", "render", "state"]


@dataclass(frozen=True)
class Change:
    kind: str  # tool | system | service | env
    op: str  # + | - | ~
    name: str
    old: str | None = None
    new: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "op": self.op, "name": self.name, "from": self.old,
                "to": self.new}


@dataclass(frozen=True)
class EnvState:
    """What one revision's `.zagi/` says the environment is."""

    entries: dict[tuple[str, str], str]  # (kind, name) -> version (or request)
    env: dict[str, str]  # [env] variables
    closure_bytes: dict[str, int]  # system -> sum of NarSize, where the lock has a closure

    @property
    def empty(self) -> bool:
        return not self.entries and not self.env


def _toml(raw: bytes | None) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        data = tomllib.loads(raw.decode("utf-8", errors="replace"))
    except (tomllib.TOMLDecodeError, RecursionError):
        return {}
    return data


def _lock(raw: bytes | None) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def _request(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        if isinstance(value.get("version"), str):
            return str(value["version"])
        if isinstance(value.get("attr"), str):
            return f"attr:{value['attr']}"
    return "latest"


def state(env_toml: bytes | None, env_lock: bytes | None) -> EnvState:
    spec, lock = _toml(env_toml), _lock(env_lock)
    entries: dict[tuple[str, str], str] = {}
    tools = spec.get("tools") if isinstance(spec.get("tools"), dict) else {}
    services = spec.get("services") if isinstance(spec.get("services"), dict) else {}
    system = spec.get("system") if isinstance(spec.get("system"), dict) else {}
    for name, value in (tools or {}).items():
        entries[("tool", str(name))] = _request(value)
    for name, value in (services or {}).items():
        entries[("service", str(name))] = _request(value)
    packages = (system or {}).get("packages", [])
    for name in packages if isinstance(packages, list) else []:
        entries[("system", str(name))] = "latest"
    locked = lock.get("packages") if isinstance(lock.get("packages"), dict) else {}
    for name, pkg in (locked or {}).items():
        if not isinstance(pkg, dict) or not isinstance(pkg.get("version"), str):
            continue
        for kind in ("tool", "service", "system"):
            if (kind, name) in entries:
                entries[(kind, name)] = pkg["version"]  # what it resolved to
    env = spec.get("env") if isinstance(spec.get("env"), dict) else {}
    sizes: dict[str, int] = {}
    systems = lock.get("systems") if isinstance(lock.get("systems"), dict) else {}
    for sysname, entry in (systems or {}).items():
        closure = entry.get("closure") if isinstance(entry, dict) else None
        if isinstance(closure, list):
            sizes[str(sysname)] = sum(p.get("narSize", 0) for p in closure
                                      if isinstance(p, dict) and isinstance(p.get("narSize"), int))
    return EnvState(entries, {str(k): str(v) for k, v in (env or {}).items()}, sizes)


_ORDER = {"tool": 0, "service": 1, "system": 2, "env": 3}


def diff(old: EnvState, new: EnvState) -> list[Change]:
    out: list[Change] = []
    for key in sorted(set(old.entries) | set(new.entries),
                      key=lambda k: (_ORDER[k[0]], k[1])):
        kind, name = key
        a, b = old.entries.get(key), new.entries.get(key)
        if a is None:
            out.append(Change(kind, "+", name, None, b))
        elif b is None:
            out.append(Change(kind, "-", name, a, None))
        elif a != b:
            out.append(Change(kind, "~", name, a, b))
    for name in sorted(set(old.env) | set(new.env)):
        a, b = old.env.get(name), new.env.get(name)
        if a != b:
            op = "+" if a is None else "-" if b is None else "~"
            out.append(Change("env", op, name, a, b))
    return out


def render(change: Change) -> str:
    """`+postgres 16`, `node 20.11.1 -> 22.2.0`, `-bun`, `system +libgit2`, `[env] +APP_ENV`."""
    if change.kind == "env":
        return f"[env] {change.op}{change.name}"
    if change.kind == "system":
        return f"system {'~' if change.op == '~' else change.op}{change.name}"
    if change.op == "+":
        return f"+{change.name}" + (f" {change.new}" if change.new not in (None, "latest") else "")
    if change.op == "-":
        return f"-{change.name}"
    return f"{change.name} {change.old} -> {change.new}"
