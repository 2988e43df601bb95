"""`zagi sync`: realize the locked env (zagi/env/sync.py). The cached case never gets
here: zagi/__main__.py answers it through zagi/env/fastsync.py."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from zagi.cli.options import AllowSource, AllowUnsandboxed, Caches, Json, ProjectDir, Trust, Verbose


def sync(
    frozen: Annotated[bool, typer.Option("--frozen", help="Never relock: fail if env.lock is "
                                                          "missing or stale (for CI).")] = False,
    verify: Annotated[bool, typer.Option(
        "--verify", help="Evaluate the env even when the lock says where to download it, and "
                         "refuse if the result differs from the lock.")] = False,
    no_build: Annotated[bool, typer.Option(
        "--no-build", help="Use only what is cached or downloadable; exit 1 naming what needs "
                           "a build (the git hooks use this).")] = False,
    cache: Caches = None,
    trust: Trust = None,
    allow_source: AllowSource = None,
    allow_unsandboxed: AllowUnsandboxed = False,
    project: ProjectDir = Path(),
    json: Json = False,
    verbose: Verbose = False,
) -> None:
    """Realize the locked env (build or fetch, verify against the lock, GC root) and mount it
    at .zagi/env. Relocks first if env.toml changed, unless --frozen."""
    import time

    from zagi.cache import reader
    from zagi.cli.output import console, emit_json, print_notes, print_sync
    from zagi.cli.progress import BuildProgress
    from zagi.drivers import nix
    from zagi.env import sync as use
    from zagi.project import find

    t0 = time.perf_counter()
    proj = find(project)
    with BuildProgress(console(stderr=True)) as bar:
        res = use.sync(proj, nix.Options(), frozen=frozen, progress=bar,
                       caches=reader.configured(proj, cache or [], trust or []),
                       allow_sources=allow_source or [], allow_unsandboxed=allow_unsandboxed,
                       verify=verify, build=not no_build)
    res.ms = (time.perf_counter() - t0) * 1000
    if json:
        print_notes(res, bar.said)
        emit_json(res.to_json())
    else:
        print_sync(res, bar.said)
