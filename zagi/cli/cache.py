"""`zagi cache serve`: a binary cache over HTTP with a Cachix-compatible push API
(zagi/cache/serve.py); `zagi cache trust`: make the Nix daemon accept a cache's key
(zagi/cache/nixconf.py)."""

from __future__ import annotations

from typing import Annotated

import typer

from zagi.cli.options import Json, Verbose

app = typer.Typer(help="Serve a binary cache over HTTP (LAN) with a Cachix-compatible "
                       "push API, or make the Nix daemon trust a cache.", no_args_is_help=True,
                  rich_markup_mode=None)


@app.command("trust")
def cache_trust(
    url: Annotated[str, typer.Argument(help="The cache (https://..., file:///dir, s3://...).")],
    key: Annotated[str, typer.Argument(help="Its public key, NAME:BASE64.")],
    json: Json = False,
    verbose: Verbose = False,
) -> None:
    """Make the Nix daemon accept paths signed by KEY: as root, add
    `extra-trusted-public-keys` and `extra-trusted-substituters` to nix.conf ($NIX_CONF_DIR
    or /etc/nix; idempotent); otherwise print the lines (and the NixOS setting) to add.
    Then restart the daemon. Needed only when the daemon does not trust you (NixOS, the
    multi-user installer): `zagi doctor` says."""
    from zagi.cache import nixconf
    from zagi.cli.output import console, emit_json

    res = nixconf.trust(url, key)
    if json:
        emit_json(res.to_json())
        return
    con = console()
    if res.already:
        con.print(f"{res.file} already trusts this cache:", markup=False)
    elif res.written:
        con.print(f"added to {res.file}:", markup=False)
    else:
        con.print(f"add to {res.file}:", markup=False)
    for line in res.lines:
        con.print(f"  {line}", markup=False, highlight=False)
    if res.nixos and not res.written:
        con.print("on NixOS, in configuration.nix instead:", markup=False)
        for line in res.nixos.splitlines():
            con.print(f"  {line}", markup=False, highlight=False)
    con.print(f"next: {res.next_step}", markup=False, highlight=False)


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
