"""`zagi up -d [NAME...]` on a synced project without the CLI framework.

Starting a server is on a developer's critical path (bench/services.py compares it with
`pg_ctl start -w`), and typer alone costs more than postgres takes to start. So, like
`zagi run --` (zagi/env/fastsync.py), the common case is served from what sync wrote:
the env is realized and services.json describes exactly this env.toml. Anything else —
other options, an unsynced project, or any error — returns None and the full CLI runs
the command (up is idempotent: whatever this attempt started is found running).
"""

from __future__ import annotations

import sys
from pathlib import Path

from zagi.core import layout
from zagi.core.errors import ZagiError


def try_up(argv: list[str]) -> int | None:
    names = argv[1:]
    if argv[:1] != ["up"] or not ("-d" in names or "--detach" in names):
        return None
    names = [a for a in names if a not in ("-d", "--detach")]
    if any(a.startswith("-") for a in names):
        return None  # options the fast path does not handle (--json, -C, --timeout, -v)
    root = layout.find_root(Path.cwd())
    if root is None:
        return None
    from zagi.env import fastsync
    from zagi.services import declared, manage

    project = layout.Project(root)
    found = fastsync.realized(root)
    if found is None or declared.cached(project) is None:
        return None
    try:
        started = manage.up(project, found[1], names or None,
                            say=_say)
    except ZagiError:
        return None
    sys.stdout.write(f"{len(started)} service(s) up: "
                     + ", ".join(f"{i.name} {i.version} on 127.0.0.1:{i.port}" for i in started)
                     + "\n")
    return 0


def _say(message: str) -> None:
    sys.stderr.write(f"zagi: {message}\n")
