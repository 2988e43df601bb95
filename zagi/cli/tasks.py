"""`zagi tasks`: list the project's [tasks] (zagi/services/tasks.py)."""

from __future__ import annotations

from pathlib import Path

from zagi.cli.options import Json, ProjectDir, Verbose


def tasks(project: ProjectDir = Path(), json: Json = False, verbose: Verbose = False) -> None:
    """List the project's tasks and what each runs."""
    from zagi.cli.output import console, emit_json
    from zagi.formats import spec as specfile
    from zagi.project import find
    from zagi.services import tasks as use

    rows = use.listing(specfile.load(find(project).env_toml))
    if json:
        emit_json({"tasks": rows})
        return
    con = console()
    if not rows:
        con.print('no tasks in .zagi/env.toml ([tasks] test = "pytest -q" adds one)',
                  markup=False)
    for r in rows:
        needs = f"  (needs {', '.join(r['needs'])})" if r.get("needs") else ""
        con.print(f"{r['name']:<12} {r['run']}{needs}", markup=False)
