"""zagi's own bookkeeping of realized envs under $ZAGI_HOME (paths: zagi/core/layout.py).

Stdlib only: the cached `zagi sync` and `zagi run` use it without importing anything heavy.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from zagi.core import layout


def touch_last_used(env_id: str) -> None:
    """Best effort: a read-only or shared ZAGI_HOME must not fail the command that uses it."""
    p = layout.env_dir(env_id) / "last-used"
    try:
        os.utime(p)
    except FileNotFoundError:
        with contextlib.suppress(OSError):
            p.parent.mkdir(parents=True, exist_ok=True)
            p.touch()
    except OSError:
        pass


def note_project(env_id: str, project: Path) -> None:
    p = layout.env_dir(env_id) / "projects"
    line = str(project)
    try:
        known = p.read_text().splitlines()
    except FileNotFoundError:
        known = []
    if line not in known:
        p.parent.mkdir(parents=True, exist_ok=True)
        with p.open("a") as fh:
            fh.write(line + "\n")


def write_activation(env_id: str, out: str, env: dict[str, str]) -> dict[str, object]:
    """All activation files for an env, written once at sync; hooks only source them."""
    from shellhooks import activation
    from zagi.core.fsutil import atomic_write

    act = activation.activation(out, env)
    d = layout.env_dir(env_id)
    write_json(d / layout.ACTIVATE_JSON, act)
    for name, text in activation.render_all(act).items():
        atomic_write(d / name, text)
    return act


def write_json(path: Path, data: object) -> None:
    import json

    from zagi.core.fsutil import atomic_write

    atomic_write(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def flip_symlink(link: Path, target: str) -> None:
    """Point `link` at `target` atomically: a new symlink renamed over the old one."""
    tmp = link.with_name(f".{link.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    os.symlink(target, tmp)
    os.replace(tmp, link)
