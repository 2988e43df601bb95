"""`zagi lock`: env.toml -> .zagi/env.lock (zagi/env/lock.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from zagi.cli.options import Json, ProjectDir, Verbose


def lock(
    check: Annotated[bool, typer.Option("--check", help="Exit 1 if env.toml changed since the "
                                                         "lock; writes nothing.")] = False,
    system: Annotated[list[str] | None, typer.Option(
        "--system", metavar="SYSTEM",
        help="Evaluate for this Nix system too (e.g. aarch64-darwin), without building.")] = None,
    project: ProjectDir = Path(),
    json: Json = False,
    verbose: Verbose = False,
) -> None:
    """Resolve env.toml into .zagi/env.lock: exact versions, nixpkgs revisions, store paths
    and, for this machine, the whole closure with NarHash and NarSize."""
    from zagi.cli.output import console, emit_json
    from zagi.cli.progress import BuildProgress
    from zagi.drivers import nix
    from zagi.env import lock as use
    from zagi.project import find

    proj = find(project)
    if check:
        diffs = use.check(proj)
        if json:
            emit_json({"in_sync": not diffs, "changes": diffs})
        else:
            for d in diffs:
                console(stderr=True).print(f"changed since lock: {d}", markup=False)
            if not diffs:
                console().print("env.lock is up to date with env.toml", markup=False)
        raise typer.Exit(1 if diffs else 0)
    systems = [nix.current_system(), *map(nix.check_system, system or [])] if system else None
    with BuildProgress(console(stderr=True), "Locking env...") as bar:
        res = use.lock(proj, systems, nix.Options(), bar)
    pk = res.lock.packages
    for note in res.notes:
        console(stderr=True).print(f"note: {note}", markup=False, highlight=False)
    if json:
        emit_json({"env_id": res.lock.env_id, "changed": res.changed,
                   "packages": {n: p.to_json() for n, p in pk.items()},
                   "systems": {k: v.out for k, v in res.lock.systems.items()},
                   "notes": res.notes})
        return
    con = console()
    for name, p in pk.items():
        con.print(f"{name:<12} {p.request:<10} -> {p.version or '?':<10} "
                  f"{p.attr} ({p.nixpkgs})", markup=False, highlight=False)
    con.print(f"{'wrote' if res.changed else 'unchanged'} {proj.lock} (env {res.lock.env_id})",
              markup=False)
