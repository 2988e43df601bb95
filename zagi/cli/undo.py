"""`zagi undo`: put .zagi/ back as it was before the last operation (zagi/history/ops.py)."""

from __future__ import annotations

from pathlib import Path

from zagi.cli.options import Json, ProjectDir, Verbose


def undo(project: ProjectDir = Path(), json: Json = False, verbose: Verbose = False) -> None:
    """Undo the last zagi operation in this project: its .zagi/ files and the env come back
    as they were (an undo is an operation too: undo it to redo). Files outside .zagi/
    are never touched."""
    from zagi import history
    from zagi.cli.output import console, emit_json
    from zagi.history import checkout, ops

    root = history.root_of(project)
    changed = ops.undo(root)
    res = checkout.follow(root, None) if changed else None
    if json:
        emit_json({"restored": changed, "env": res.to_json() if res else None})
        return
    con = console()
    con.print(f"undid the last operation: restored {', '.join(changed) or 'nothing'}",
              markup=False)
    if res is not None:
        con.print(f".zagi/env -> {res.out}", markup=False, highlight=False)
