"""`zagi cache serve`: a binary cache over HTTP with a Cachix-compatible push API
(zagi/cache/serve.py)."""

from __future__ import annotations

from typing import Annotated

import typer

from zagi.cli.options import Json, Verbose

app = typer.Typer(help="Serve a binary cache over HTTP (LAN) with a Cachix-compatible "
                             "push API.", no_args_is_help=True, rich_markup_mode=None)


@app.command("serve")
def cache_serve(
    source: Annotated[str | None, typer.Option("--from", help="The cache to serve (file:///dir "
                                                              "or s3://...; default: the local "
                                                              "cache).")] = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port (0: any free one).")] = 8080,
    name: Annotated[str, typer.Option("--name", help="Cache name in the push API paths.")] = "zagi",
    trust: Annotated[list[str] | None, typer.Option(
        "--trust", metavar="KEY", help="Accept only narinfos signed by this key (repeatable; "
                                       "default: any well-formed signature).")] = None,
    read_only: Annotated[bool, typer.Option(
        "--read-only", help="Serve reads only: no push API, so no token is needed.")] = False,
    allow_anonymous: Annotated[bool, typer.Option(
        "--allow-anonymous", help="Accept pushes without a token (only on a network you "
                                  "trust).")] = False,
    json: Json = False,
    verbose: Verbose = False,
) -> None:
    """Serve a cache: GET for Nix substituters and `zagi clone` (http://HOST:PORT), and the
    Cachix push API (`zagi publish --to cachix+http://HOST:PORT/NAME`). Pushes need the
    bearer token in $ZAGI_CACHE_TOKEN (the server refuses to start without one unless
    --allow-anonymous). Ctrl-C stops."""
    import os

    from zagi.cache import serve
    from zagi.core import layout
    from zagi.storage import open_url

    storage = open_url(source or layout.local_cache_url())
    srv = serve.CacheServer(storage, name, os.environ.get("ZAGI_CACHE_TOKEN"), host, port,
                            allow_anonymous=allow_anonymous, trusted_keys=trust or [],
                            read_only=read_only)
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
