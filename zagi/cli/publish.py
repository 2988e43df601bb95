"""`zagi publish`: the locked env's closure, signed, to a binary cache (zagi/cache/writer.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from zagi.cli.options import Json, Verbose

if TYPE_CHECKING:
    from zagi.cache.writer import PublishResult


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
    import sys

    from zagi.cache import writer
    from zagi.cli.output import emit_json
    from zagi.project import find

    if not sys.stderr.isatty():  # no bar to draw: skip rich's console and progress (~50 ms)
        res = writer.publish(find(project), to, key, everything=everything)
    else:
        res = _with_bar(lambda up, plan: writer.publish(find(project), to, key, on_upload=up,
                                                        on_plan=plan, everything=everything))
    rate = res.bytes / res.seconds / 1e6 if res.seconds else 0.0
    if json:
        emit_json({"cache": res.url, "env_id": res.env_id, "uploaded": res.uploaded,
                   "skipped": res.skipped, "upstream": res.upstream, "bytes": res.bytes,
                   "seconds": round(res.seconds, 3)})
    else:
        typer.echo(f"published env {res.env_id[:12]} to {res.url}: {len(res.uploaded)} path(s) "
                   f"uploaded ({res.bytes / 1e6:.1f} MB, {rate:.1f} MB/s), {res.skipped} already there"
                   + (f", {len(res.upstream)} left to the caches Nix uses" if res.upstream else ""))


def _with_bar(go: Callable[[Callable[[str, int], None], Callable[[int], None]], PublishResult],
              ) -> PublishResult:
    """Run a publish under a transfer bar on the terminal."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    from zagi.cli.output import console

    with Progress(TextColumn("Publishing"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                  console=console(stderr=True), transient=True) as bar:
        task = bar.add_task("publish", total=None)
        return go(lambda _p, n: bar.advance(task, n), lambda total: bar.update(task, total=total))
