"""`zagi server ...`: the bucket git server's maintenance (zagi/server/)."""

from __future__ import annotations

from typing import Annotated

import typer

from zagi.cli.options import Json, Verbose

app = typer.Typer(help="The bucket that serves git repositories and their envs (docs/server.md).")


@app.command()
def gc(
    url: Annotated[str, typer.Argument(help="The repository: s3://BUCKET/PREFIX/NAME?... or "
                                            "file:///DIR/NAME.")],
    grace: Annotated[str, typer.Option("--grace", help="Keep packs no longer listed this long "
                                                       "before deleting them (1h, 30m, 2d).")] = "1h",
    json: Json = False,
    verbose: Verbose = False,
) -> None:
    """Repack the repository's packs into one (conditional writes: readers never miss an
    object) and delete packs retired longer ago than --grace."""
    from zagi.cli.output import emit_json
    from zagi.env.gc import parse_age
    from zagi.server import bucket
    from zagi.server import gc as use

    res = use.gc(bucket.open_remote(url), parse_age(grace, "--grace"))
    if json:
        emit_json({"packs_before": res.packs_before, "packs_after": res.packs_after,
                   "repacked": res.repacked, "retired": res.retired, "deleted": res.deleted,
                   "busy": res.busy})
        return
    typer.echo(f"packs: {res.packs_before} -> {res.packs_after}; retired {len(res.retired)}, "
               f"deleted {len(res.deleted)}"
               + ("; a push landed meanwhile: run gc again" if res.busy else ""))
