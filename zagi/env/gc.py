"""`zagi envs` and `zagi gc`: the realized envs zagi keeps, and removing unused ones."""

from __future__ import annotations

import json
import re
import shutil
import time
from dataclasses import asdict, dataclass

from zagi.core import layout
from zagi.core.errors import BadInput
from zagi.drivers import nix

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


@dataclass
class EnvInfo:
    env_id: str
    out: str | None
    rooted: bool
    closure_size: int
    last_used: float
    projects: list[str]


def parse_age(text: str, option: str = "--older-than") -> float:
    """'30d', '12h', '2w' -> seconds."""
    m = re.fullmatch(r"\s*(\d+)\s*([smhdw])\s*", text)
    if not m:
        raise BadInput(f"{option} {text!r}: expected a number and a unit, e.g. 30d, 12h, 2w")
    return int(m.group(1)) * _UNITS[m.group(2)]


def listing() -> list[EnvInfo]:
    base = layout.envs_dir()
    out: list[EnvInfo] = []
    for d in sorted(base.iterdir()) if base.is_dir() else []:
        try:
            info = json.loads((d / "info.json").read_text())
        except (OSError, ValueError):
            info = {}
        try:
            last = (d / "last-used").stat().st_mtime
        except OSError:
            last = 0.0
        try:
            projects = [p for p in (d / "projects").read_text().splitlines() if p]
        except OSError:
            projects = []
        out.append(EnvInfo(d.name, info.get("out"), layout.realized_out(d.name) is not None,
                           int(info.get("closure_size", 0)), last, projects))
    return sorted(out, key=lambda e: -e.last_used)


@dataclass
class GcResult:
    removed: list[EnvInfo]
    kept: list[EnvInfo]
    store_output: str | None


def gc(older_than: float, dry_run: bool, run_store_gc: bool) -> GcResult:
    now = time.time()
    envs = listing()
    old = [e for e in envs if now - e.last_used > older_than]
    keep = [e for e in envs if e not in old]
    if not dry_run:
        for e in old:
            for root in layout.roots_of(e.env_id):
                if root.is_symlink():
                    root.unlink()  # Nix's own root in gcroots/auto now dangles: ignored
            shutil.rmtree(layout.env_dir(e.env_id), ignore_errors=True)
    output = nix.collect_garbage(dry_run=dry_run) if run_store_gc else None
    return GcResult(old, keep, output)


def to_json(e: EnvInfo) -> dict[str, object]:
    d = asdict(e)
    d["last_used"] = int(e.last_used)
    return d
