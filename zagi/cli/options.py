"""Options every command shares, so they read (and behave) the same everywhere.

`-v/--verbose` is handled here, once: its callback turns on logging before the command
runs, whichever command it is given to (and `zagi -v CMD` works too).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def _verbose(value: bool) -> bool:
    if value:
        from zagi.cli.output import setup_logging

        setup_logging(True)
    return value


Json = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", callback=_verbose,
                                       help="Log what zagi does on stderr.")]
ProjectDir = Annotated[Path, typer.Option("--project", "-C",
                                          help="Start looking for .zagi/env.toml here "
                                               "(default: .).")]
RootDir = Annotated[Path, typer.Option("--project", "-C",
                                       help="Project root (default: current directory).")]
NoLock = Annotated[bool, typer.Option("--no-lock", help="Edit env.toml only; do not relock.")]
Caches = Annotated[list[str] | None, typer.Option(
    "--cache", metavar="URL", help="A binary cache to fetch from (repeatable): file:///dir, "
                                   "s3://bucket?endpoint=..., https://...")]
Trust = Annotated[list[str] | None, typer.Option(
    "--trust", metavar="KEY", help="A public key whose signatures to accept (repeatable).")]
AllowSource = Annotated[list[str] | None, typer.Option(
    "--allow-source", metavar="URL", help="Allow the lock to name this package set although "
                                          "it is not in the catalog (repeatable).")]
AllowUnsandboxed = Annotated[bool, typer.Option(
    "--allow-unsandboxed", help="Build an allowed non-catalog package set even though Nix's "
                                "sandbox is off here.")]
