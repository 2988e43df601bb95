"""The env as a process environment: `zagi run`, `zagi shell`, `zagi env --export`.

`zagi run -- CMD` on an already realized env never gets here: zagi/env/fastsync.py
execs it straight from `zagi/__main__.py`. This module is the full path (sync first).
"""

from __future__ import annotations

import os
from collections.abc import Callable

from zagi.core import layout
from zagi.core.errors import BadInput, NotLocked, ZagiError
from zagi.core.layout import Project
from zagi.drivers import nix
from zagi.env import fastsync, sync, trust

EXPORT_FILES = {"bash": "export.sh", "zsh": "export.sh", "sh": "export.sh",
                "fish": "export.fish", "json": layout.ACTIVATE_JSON}


def ready_env(project: Project, base: dict[str, str] | None = None, *, frozen: bool = False,
              say: Callable[[str], None] | None = None) -> dict[str, str]:
    """`base` (default: this process's environment) with the project's env activated,
    syncing first when the env is not realized. A relock rewrites the committed lock, so
    it is said (`say`), and with `frozen` refused instead."""
    found = fastsync.realized(project.root)
    if found is None:
        res = sync.sync(project, nix.Options(), frozen=frozen)
        if res.relocked and say:
            say(f"env.toml changed since {project.lock.name} was written: relocked it "
                "(commit .zagi/env.lock; --frozen refuses instead)")
        found = fastsync.realized(project.root)
    env = fastsync.run_env(*found, dict(os.environ if base is None else base),
                           project.root) if found else None
    if env is None:
        raise ZagiError("the env could not be prepared", hint="run `zagi sync` to see why")
    return env


def realized_out(project: Project, say: Callable[[str], None] | None = None) -> str:
    """The env's store output (services run their servers from it), syncing first when
    it is not realized."""
    found = fastsync.realized(project.root)
    if found is None:
        ready_env(project, say=say)
        found = fastsync.realized(project.root)
    if found is None:
        raise ZagiError("the env could not be prepared", hint="run `zagi sync` to see why")
    return found[1]


def exports(project: Project, shell: str) -> str:
    if shell not in EXPORT_FILES:
        raise BadInput(f"--export {shell!r}: expected one of: {', '.join(EXPORT_FILES)}")
    env_id = trust.synced_env_id(project)
    path = layout.env_dir(env_id) / EXPORT_FILES[shell] if env_id else None
    if path is None or not path.exists():
        raise NotLocked("this project's env is not set up", hint="run `zagi sync`")
    text = path.read_text()
    # The project's own activation (services' variables, venv: zagi/env/state.py) comes after
    # the env's own, as the hooks source them.
    if shell == "json":
        import json

        from zagi.env import state

        doc = json.loads(text)
        prepend, sets = state.read_project_activation(project.root)
        doc["set"] = {**doc["set"], **sets}
        for var, dirs in prepend.items():
            doc["prepend"][var] = dirs + doc["prepend"].get(var, [])
        return json.dumps(doc, indent=2, sort_keys=True) + "\n"
    extra = layout.project_dir(project.root) / EXPORT_FILES[shell]
    return text + (extra.read_text() if extra.is_file() else "")
