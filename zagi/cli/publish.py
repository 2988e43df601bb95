"""`zagi publish`: the locked env's closure, signed, to a binary cache (zagi/cache/writer.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from zagi.cli.options import Json, Verbose


def publish(
    to: Annotated[str | None, typer.Option("--to", help="Cache URL: file:///dir, s3://bucket?"
                                                        "endpoint=... (default: the local "
                                                        "cache under $ZAGI_HOME).")] = None,
    key: Annotated[str | None, typer.Option("--key", help="Signing key name.")] = None,
    everything: Annotated[bool, typer.Option(
        "--all", help="Upload also the paths the caches Nix uses already have (a cache that "
                      "stands alone).")] = False,
    project: Annotated[Path, typer.Option("--project", "-C", help="Project directory.")] = Path(),
    json: Json = False,
    verbose: Verbose = False,
) -> None:
    """Publish the locked env's closure, signed, to a binary cache that plain Nix and
    `zagi clone` can read."""
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TransferSpeedColumn,
    )

    from zagi.cache import writer
    from zagi.cli.output import console, emit_json
    from zagi.project import find

    con = console(stderr=True)
    with Progress(TextColumn("Publishing"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                  console=con, transient=True, disable=not con.is_terminal) as bar:
        task = bar.add_task("publish", total=None)
        res = writer.publish(find(project), to, key,
                             on_upload=lambda _p, n: bar.advance(task, n),
                             on_plan=lambda total: bar.update(task, total=total),
                             everything=everything)
    rate = res.bytes / res.seconds / 1e6 if res.seconds else 0.0
    if json:
        emit_json({"cache": res.url, "env_id": res.env_id, "uploaded": res.uploaded,
                   "skipped": res.skipped, "upstream": res.upstream, "bytes": res.bytes,
                   "seconds": round(res.seconds, 3)})
    else:
        typer.echo(f"published env {res.env_id[:12]} to {res.url}: {len(res.uploaded)} path(s) "
                   f"uploaded ({res.bytes / 1e6:.1f} MB, {rate:.1f} MB/s), {res.skipped} already there"
                   + (f", {len(res.upstream)} left to the caches Nix uses" if res.upstream else ""))
