"""`zagi lock`, `zagi sync`, `zagi envs`, `zagi gc`: from env.toml to a realized env and back."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from zagi.cli.options import Json, Verbose

if TYPE_CHECKING:
    from types import TracebackType

    from rich.console import Console

Dir = Annotated[Path, typer.Option("--project", "-C",
                                   help="Start looking for .zagi/env.toml here (default: .).")]




def lock(
    check: Annotated[bool, typer.Option("--check", help="Exit 1 if env.toml changed since the "
                                                         "lock; writes nothing.")] = False,
    system: Annotated[list[str] | None, typer.Option(
        "--system", metavar="SYSTEM",
        help="Evaluate for this Nix system too (e.g. aarch64-darwin), without building.")] = None,
    project: Dir = Path(),
    json: Json = False,
    verbose: Verbose = False,
) -> None:
    """Resolve env.toml into .zagi/env.lock: exact versions, nixpkgs revisions, store paths
    and, for this machine, the whole closure with NarHash and NarSize."""
    from zagi.app import locking
    from zagi.app.project import find
    from zagi.cli.output import console, emit_json, setup_logging
    from zagi.core import nix, store

    setup_logging(verbose)
    proj = find(project)
    if check:
        diffs = locking.check(proj)
        if json:
            emit_json({"in_sync": not diffs, "changes": diffs})
        else:
            for d in diffs:
                console(stderr=True).print(f"changed since lock: {d}", markup=False)
            if not diffs:
                console().print("env.lock is up to date with env.toml", markup=False)
        raise typer.Exit(1 if diffs else 0)
    systems = [store.nix_system(), *(system or [])] if system else None
    with _BuildProgress(console(stderr=True), "Locking env...") as bar:
        res = locking.lock(proj, systems, nix.Options(), bar)
    pk = res.lock.packages()
    if json:
        emit_json({"env_id": res.lock.env_id, "changed": res.changed, "packages": pk,
                   "systems": {k: v["out"] for k, v in res.lock.data["systems"].items()}})
        return
    con = console()
    for name, p in pk.items():
        con.print(f"{name:<12} {p['request']:<10} -> {p['version'] or '?':<10} "
                  f"{p['attr']} ({p['nixpkgs']})", markup=False, highlight=False)
    con.print(f"{'wrote' if res.changed else 'unchanged'} {proj.lock} (env {res.lock.env_id})",
              markup=False)


Caches = Annotated[list[str] | None, typer.Option(
    "--cache", metavar="URL", help="A binary cache to fetch from (repeatable): file:///dir, "
                                   "s3://bucket?endpoint=..., https://...")]
Trust = Annotated[list[str] | None, typer.Option(
    "--trust", metavar="KEY", help="A public key whose signatures to accept (repeatable).")]


def sync(
    frozen: Annotated[bool, typer.Option("--frozen", help="Never relock: fail if env.lock is "
                                                          "missing or stale (for CI).")] = False,
    cache: Caches = None,
    trust: Trust = None,
    project: Dir = Path(),
    json: Json = False,
    verbose: Verbose = False,
) -> None:
    """Realize the locked env (build or fetch, verify against the lock, GC root) and mount it
    at .zagi/env. Relocks first if env.toml changed, unless --frozen."""
    import time

    from zagi.app.project import find
    from zagi.cli.output import setup_logging

    setup_logging(verbose)
    t0 = time.perf_counter()
    report_sync(find(project), frozen, cache or [], trust or [], json, t0)


def report_sync(proj: object, frozen: bool, cache: list[str], trust: list[str], json: bool,
                t0: float) -> object:
    """Run sync with progress and print the outcome (shared by `zagi sync` and `zagi clone`)."""
    import time

    from zagi.app import caches, realize
    from zagi.app.project import Project
    from zagi.cli.output import console, emit_json
    from zagi.core import nix

    assert isinstance(proj, Project)
    with _BuildProgress(console(stderr=True)) as bar:
        res = realize.sync(proj, nix.Options(), frozen=frozen, progress=bar,
                           caches=caches.configured(proj, cache, trust))
    ms = (time.perf_counter() - t0) * 1000
    for note in res.notes:
        console(stderr=True).print(f"note: {note}", markup=False, highlight=False)
    if json:
        emit_json({"env_id": res.env_id, "out": res.out, "cached": res.cached,
                   "relocked": res.relocked, "built": res.built, "fetched": res.fetched,
                   "source": res.source, "notes": res.notes, "ms": round(ms, 1)})
        return res
    con = console()
    if res.relocked:
        con.print("env.toml changed: relocked", markup=False)
    if res.cached or not res.built:  # "cached" = nothing had to be built
        where = f" from {res.source}" if res.source else ""
        con.print(f"Resolving env... cached ({ms:.0f} ms){where}", markup=False, highlight=False)
    else:
        con.print(f"Resolving env... built ({ms / 1000:.1f} s: {len(res.built)} derivation(s), "
                  f"{len(res.fetched)} fetched)", markup=False)
    con.print(f".zagi/env -> {res.out}", markup=False, highlight=False)
    return res


def envs(json: Json = False, verbose: Verbose = False) -> None:
    """List realized envs: size, last use and the projects that use them."""
    import time

    from zagi.app import envs as use
    from zagi.cli.output import console, emit_json

    items = use.listing()
    if json:
        emit_json({"envs": [use.to_json(e) for e in items]})
        return
    con = console()
    now = time.time()
    for e in items:
        age = (now - e.last_used) / 86400
        con.print(f"{e.env_id}  {e.closure_size / 1e6:8.1f} MB  used {age:5.1f} days ago  "
                  f"{'rooted' if e.rooted else 'NOT ROOTED'}  {', '.join(e.projects)}",
                  markup=False, highlight=False)
    if not items:
        con.print("no realized envs", markup=False)


def gc(
    older_than: Annotated[str, typer.Option("--older-than", help="Remove envs unused this long "
                                                                 "(30d, 12h, 2w).")] = "30d",
    dry_run: Annotated[bool, typer.Option("--dry-run", "-n", help="Say what would go.")] = False,
    store_gc: Annotated[bool, typer.Option("--store", help="Then run Nix's garbage collector "
                                                           "to free the disk.")] = False,
    json: Json = False,
    verbose: Verbose = False,
) -> None:
    """Remove zagi's GC roots for envs not used within a window (and, with --store, free disk)."""
    from zagi.app import envs as use
    from zagi.cli.output import console, emit_json, setup_logging

    setup_logging(verbose)
    res = use.gc(use.parse_age(older_than), dry_run, store_gc)
    if json:
        emit_json({"removed": [use.to_json(e) for e in res.removed],
                   "kept": [e.env_id for e in res.kept], "dry_run": dry_run,
                   "store_gc": res.store_output is not None})
        return
    con = console()
    verb = "would remove" if dry_run else "removed"
    for e in res.removed:
        con.print(f"{verb} env {e.env_id} ({', '.join(e.projects) or 'no project'})",
                  markup=False)
    con.print(f"{len(res.removed)} env(s) {verb}, {len(res.kept)} kept", markup=False)


class _BuildProgress:
    """A rich progress bar for Nix builds and fetches; silent when stderr is not a terminal."""

    def __init__(self, con: Console, title: str = "Resolving env...") -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.con = con
        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("{task.fields[current]}"), console=con, transient=True,
                            disable=not con.is_terminal)
        self.task = self.bar.add_task(title, total=None, current="")

    def __enter__(self) -> _BuildProgress:
        self.bar.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.bar.stop()

    def plan(self, builds: int, fetches: int) -> None:
        self.bar.update(self.task, total=builds + fetches or None,
                        description=f"Building {builds}, fetching {fetches}")

    def event(self, kind: str, path: str) -> None:
        name = path.rsplit("/", 1)[-1].split("-", 1)[-1].removesuffix(".drv")
        self.bar.update(self.task, advance=1, current=f"{kind} {name}")
