"""`zagi op log` / `zagi op restore ID`: the operation log (zagi/history/ops.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from zagi.cli.options import Json, ProjectDir, Verbose

app = typer.Typer(help="The operation log: every zagi command that changed this project, "
                       "undoable.", no_args_is_help=True, rich_markup_mode=None)


@app.command("log")
def op_log(project: ProjectDir = Path(), json: Json = False, verbose: Verbose = False) -> None:
    """List this project's operations, newest first: id, time, command, files changed."""
    import time

    from zagi import history
    from zagi.cli.output import console, emit_json
    from zagi.history import ops

    found = list(reversed(ops.history(history.root_of(project))))
    if json:
        emit_json({"operations": [op.to_json() for op in found]})
        return
    con = console()
    for op in found:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(op.time))
        what = ", ".join(op.to_json()["changed"])
        con.print(f"{op.id}  {when}  zagi {' '.join(op.argv)}  ({what})", markup=False,
                  highlight=False)
    if not found:
        con.print("no operations recorded in this project yet", markup=False)


@app.command("restore")
def op_restore(
    op_id: Annotated[str, typer.Argument(metavar="ID")],
    project: ProjectDir = Path(),
    json: Json = False,
    verbose: Verbose = False,
) -> None:
    """Put .zagi/ (and the env) back as they were right after operation ID."""
    from zagi import history
    from zagi.cli.output import console, emit_json
    from zagi.history import checkout, ops

    root = history.root_of(project)
    changed = ops.restore(root, op_id)
    res = checkout.follow(root, None) if changed else None
    if json:
        emit_json({"restored": changed, "env": res.to_json() if res else None})
        return
    console().print(f"restored the state after operation {op_id}: "
                    f"{', '.join(changed) or 'nothing changed'}", markup=False)
