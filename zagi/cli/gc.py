"""`zagi gc`: remove envs not used within a window (zagi/env/gc.py)."""

from __future__ import annotations

from typing import Annotated

import typer

from zagi.cli.options import Json, Verbose


def gc(
    older_than: Annotated[str, typer.Option("--older-than", help="Remove envs unused this long "
                                                                 "(30d, 12h, 2w).")] = "30d",
    dry_run: Annotated[bool, typer.Option("--dry-run", "-n", help="Say what would go.")] = False,
    store_gc: Annotated[bool, typer.Option("--store", help="Then run Nix's garbage collector "
                                                           "to free the disk.")] = False,
    json: Json = False,
    verbose: Verbose = False,
) -> None:
    """Remove zagi's GC roots for envs not used within a window (and, with --store, free disk)."""
    from zagi.cli.output import console, emit_json
    from zagi.env import gc as use

    res = use.gc(use.parse_age(older_than), dry_run, store_gc)
    if json:
        emit_json({"removed": [use.to_json(e) for e in res.removed],
                   "kept": [e.env_id for e in res.kept], "dry_run": dry_run,
                   "store_gc": res.store_output is not None})
        return
    con = console()
    verb = "would remove" if dry_run else "removed"
    for e in res.removed:
        con.print(f"{verb} env {e.env_id} ({', '.join(e.projects) or 'no project'})",
                  markup=False)
    con.print(f"{len(res.removed)} env(s) {verb}, {len(res.kept)} kept", markup=False)
