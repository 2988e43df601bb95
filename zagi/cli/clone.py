"""`zagi clone URL [DIR]`: source and a ready env in one step (zagi/env/clone.py)."""

from __future__ import annotations

from typing import Annotated

import typer

from zagi.cli.options import AllowSource, AllowUnsandboxed, Caches, Json, Trust, Verbose


def clone(
    url: Annotated[str, typer.Argument(help="Any git URL or local path, or a bucket "
                                            "repository: s3://BUCKET/PREFIX/NAME?endpoint=...")],
    dest: Annotated[str | None, typer.Argument(help="Directory (default: from the URL).")] = None,
    depth: Annotated[int | None, typer.Option("--depth", help="Passed to git clone.")] = None,
    cache: Caches = None,
    trust: Trust = None,
    allow_source: AllowSource = None,
    allow_unsandboxed: AllowUnsandboxed = False,
    init: Annotated[bool, typer.Option("--init", help="Run `zagi init` when the repo has no "
                                                      ".zagi/.")] = False,
    json: Json = False,
    verbose: Verbose = False,
) -> None:
    """Clone a repository and make its environment ready: a download, not a build,
    when its env is in a binary cache."""
    from zagi.cli.output import console, emit_json, print_notes, print_sync
    from zagi.cli.progress import BuildProgress
    from zagi.env import clone as use

    con = console(stderr=json)
    con.print("Cloning...", end=" ", markup=False)
    with BuildProgress(console(stderr=True)) as bar:
        res = use.clone(url, dest, depth, caches=cache or [], trust=trust or [], infer=init,
                        allow_sources=allow_source or [], allow_unsandboxed=allow_unsandboxed,
                        progress=bar, on_cloned=lambda _ms: con.print("done", markup=False))
    if res.sync is None:
        msg = f"{res.dir} has no .zagi/: run `cd {res.dir} && zagi init` to infer its environment"
        if json:
            emit_json({"dir": str(res.dir), "clone_ms": round(res.clone_ms, 1), "env": None,
                       "hint": msg})
        else:
            con.print(msg, markup=False)
        return
    if json:  # one JSON object: the sync report plus how long git clone took
        print_notes(res.sync, bar.said)
        emit_json({**res.sync.to_json(), "dir": str(res.dir), "clone_ms": round(res.clone_ms, 1),
                   "mirror": res.mirror})
        return
    if res.mirror is not None:
        which = "" if res.mirror["exact"] else f" (its newest mirrored commit, " \
            f"{res.mirror['commit'][:12]}, not this one)"
        con.print(f"No .zagi/ here: using the mirror's env from {res.mirror['cache']}{which}; "
                  "it is not committed (.zagi/from-mirror.json)", markup=False, highlight=False)
    print_sync(res.sync, bar.said, from_mirror=res.mirror is not None)
    con.print(f"Next: cd {res.dir} && zagi allow   (or: zagi run -C {res.dir} -- <command>)",
              markup=False, highlight=False)
