"""`zagi keys generate|list`: signing keys for binary caches (zagi/cache/keys.py)."""

from __future__ import annotations

from typing import Annotated

import typer

from zagi.cli.options import Json, Verbose

app = typer.Typer(help="Signing keys for binary caches (Nix's ed25519 key format).",
                  no_args_is_help=True, rich_markup_mode=None)


@app.command("generate")
def generate(name: Annotated[str, typer.Argument(help="Key name, e.g. cache.example.org-1.")],
             json: Json = False, verbose: Verbose = False) -> None:
    """Create a signing key under $ZAGI_HOME/keys (0600) and print its public key,
    which readers put in trusted-public-keys."""
    from zagi.cache import keys
    from zagi.cli.output import emit_json

    path, public = keys.generate(name)
    if json:
        emit_json({"secret_key_file": str(path), "public_key": public})
    else:
        typer.echo(f"wrote {path}", err=True)
        typer.echo(public)


@app.command("list")
def list_(json: Json = False, verbose: Verbose = False) -> None:
    """List signing keys (public halves)."""
    from zagi.cache import keys
    from zagi.cli.output import emit_json

    pubs = keys.public_keys()
    if json:
        emit_json({"public_keys": pubs})
    else:
        for p in pubs:
            typer.echo(p)
