"""`zagi envs`: the realized envs zagi keeps (zagi/env/gc.py)."""

from __future__ import annotations

from zagi.cli.options import Json, Verbose


def envs(json: Json = False, verbose: Verbose = False) -> None:
    """List realized envs: size, last use and the projects that use them."""
    import time

    from zagi.cli.output import console, emit_json
    from zagi.env import gc as use

    items = use.listing()
    if json:
        emit_json({"envs": [use.to_json(e) for e in items]})
        return
    con = console()
    now = time.time()
    for e in items:
        age = (now - e.last_used) / 86400
        con.print(f"{e.env_id}  {e.closure_size / 1e6:8.1f} MB  used {age:5.1f} days ago  "
                  f"{'rooted' if e.rooted else 'NOT ROOTED'}  {', '.join(e.projects)}",
                  markup=False, highlight=False)
    if not items:
        con.print("no realized envs", markup=False)
