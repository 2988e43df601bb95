"""`zagi keys` and `zagi publish`: signing keys and pushing envs to a binary cache."""

from __future__ import annotations

from typing import Annotated

import typer

from zagi.cli.options import Json, Verbose

keys_app = typer.Typer(help="Signing keys for binary caches (Nix's ed25519 key format).",
                       no_args_is_help=True, rich_markup_mode=None)


@keys_app.command("generate")
def keys_generate(name: Annotated[str, typer.Argument(help="Key name, e.g. cache.example.org-1.")],
                  json: Json = False, verbose: Verbose = False) -> None:
    """Create a signing key under $ZAGI_HOME/keys (0600) and print its public key,
    which readers put in trusted-public-keys."""
    from zagi.app import publish
    from zagi.cli.output import emit_json

    path, public = publish.generate_key(name)
    if json:
        emit_json({"secret_key_file": str(path), "public_key": public})
    else:
        typer.echo(f"wrote {path}", err=True)
        typer.echo(public)


@keys_app.command("list")
def keys_list(json: Json = False, verbose: Verbose = False) -> None:
    """List signing keys (public halves)."""
    from zagi.app import publish
    from zagi.cli.output import emit_json

    kdir = publish.keys_dir()
    pubs = sorted(p.read_text().strip() for p in kdir.glob("*.pub")) if kdir.is_dir() else []
    if json:
        emit_json({"public_keys": pubs})
    else:
        for p in pubs:
            typer.echo(p)


def publish(
    to: Annotated[str | None, typer.Option("--to", help="Cache URL: file:///dir, s3://bucket?"
                                                        "endpoint=... (default: the local "
                                                        "cache under $ZAGI_HOME).")] = None,
    key: Annotated[str | None, typer.Option("--key", help="Signing key name.")] = None,
    project: Annotated[str, typer.Option("--project", "-C", help="Project directory.")] = ".",
    json: Json = False,
    verbose: Verbose = False,
) -> None:
    """Publish the locked env's closure, signed, to a binary cache that plain Nix and
    `zagi clone` can read."""
    from pathlib import Path

    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TransferSpeedColumn,
    )

    from zagi.app import publish as use
    from zagi.app.project import find
    from zagi.cli.output import console, emit_json, setup_logging

    setup_logging(verbose)
    con = console(stderr=True)
    with Progress(TextColumn("Publishing"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                  console=con, transient=True, disable=not con.is_terminal) as bar:
        task = bar.add_task("publish", total=None)
        res = use.publish(find(Path(project)), to, key,
                          on_upload=lambda _p, n: bar.advance(task, n),
                          on_plan=lambda total: bar.update(task, total=total))
    rate = res.bytes / res.seconds / 1e6 if res.seconds else 0.0
    if json:
        emit_json({"cache": res.url, "env_id": res.env_id, "uploaded": res.uploaded,
                   "skipped": res.skipped, "bytes": res.bytes, "seconds": round(res.seconds, 3)})
    else:
        typer.echo(f"published env {res.env_id[:12]} to {res.url}: {len(res.uploaded)} path(s) "
                   f"uploaded ({res.bytes / 1e6:.1f} MB, {rate:.1f} MB/s), {res.skipped} already there")


def clone(
    url: Annotated[str, typer.Argument(help="Any git URL or local path.")],
    dest: Annotated[str | None, typer.Argument(help="Directory (default: from the URL).")] = None,
    depth: Annotated[int | None, typer.Option("--depth", help="Passed to git clone.")] = None,
    cache: Annotated[list[str] | None, typer.Option("--cache", metavar="URL",
                                                   help="A binary cache to fetch from.")] = None,
    trust: Annotated[list[str] | None, typer.Option("--trust", metavar="KEY",
                                                   help="A public key to accept.")] = None,
    init: Annotated[bool, typer.Option("--init", help="Run `zagi init` when the repo has no "
                                                      ".zagi/.")] = False,
    json: Json = False,
    verbose: Verbose = False,
) -> None:
    """Clone a repository and make its environment ready: a download, not a build,
    when its env is in a binary cache."""
    import time

    from zagi.app import clone as use
    from zagi.cli.cmd_env import report_sync
    from zagi.cli.output import console, emit_json, setup_logging

    setup_logging(verbose)
    t0 = time.perf_counter()
    dest_dir = use.target_dir(url, dest)
    con = console(stderr=json)
    con.print("Cloning...", end=" ", markup=False)
    use.git_clone(url, dest_dir, depth)
    clone_ms = (time.perf_counter() - t0) * 1000
    con.print("done", markup=False)
    proj = use.project_in(dest_dir)
    if proj is None and init:
        from zagi.app import init as init_use

        init_use.run(dest_dir.resolve())
        proj = use.project_in(dest_dir)
    if proj is None:
        msg = f"{dest_dir} has no .zagi/: run `cd {dest_dir} && zagi init` to infer its environment"
        if json:
            emit_json({"dir": str(dest_dir), "clone_ms": round(clone_ms, 1), "env": None,
                       "hint": msg})
        else:
            con.print(msg, markup=False)
        return
    if json:  # one JSON object: the sync report plus how long git clone took
        import contextlib
        import io
        import json as _json

        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            report_sync(proj, False, cache or [], trust or [], True, time.perf_counter())
        emit_json({**_json.loads(buf.getvalue()), "dir": str(dest_dir),
                   "clone_ms": round(clone_ms, 1)})
        return
    res = report_sync(proj, False, cache or [], trust or [], json, time.perf_counter())
    if not json:
        con.print(f"Next: cd {dest_dir} && zagi allow   (or: zagi run -C {dest_dir} -- <command>)",
                  markup=False, highlight=False)
    _ = res


cache_app = typer.Typer(help="Serve a binary cache over HTTP (LAN) with a Cachix-compatible "
                             "push API.", no_args_is_help=True, rich_markup_mode=None)


@cache_app.command("serve")
def cache_serve(
    source: Annotated[str | None, typer.Option("--from", help="The cache to serve (file:///dir "
                                                              "or s3://...; default: the local "
                                                              "cache).")] = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port (0: any free one).")] = 8080,
    name: Annotated[str, typer.Option("--name", help="Cache name in the push API paths.")] = "zagi",
    json: Json = False,
    verbose: Verbose = False,
) -> None:
    """Serve a cache: GET for Nix substituters and `zagi clone` (http://HOST:PORT), and the
    Cachix push API (`zagi publish --to cachix+http://HOST:PORT/NAME`). Pushes need the
    bearer token in $ZAGI_CACHE_TOKEN when it is set here. Ctrl-C stops."""
    import os

    from zagi.app import publish, serve
    from zagi.core.storage import open_url

    storage = open_url(source or publish.default_cache_url())
    srv = serve.CacheServer(storage, name, os.environ.get("ZAGI_CACHE_TOKEN"), host, port)
    if json:  # one line: a supervisor reads it while the server keeps running
        import json as _json

        typer.echo(_json.dumps({"url": srv.url, "push": f"cachix+{srv.url}/{name}",
                                "serving": storage.url}))
    else:
        typer.echo(f"serving {storage.url} at {srv.url} (push: cachix+{srv.url}/{name})", err=True)
    import sys

    sys.stdout.flush()
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        srv.stop()
