"""`zagi watch`: keep the lock and the realized env in step with env.toml while you work.

Watches .zagi/env.toml and .zagi/env.lock (and, with --infer, the files detection reads
in the project root). A change to env.toml relocks and syncs; a new lock (a checkout)
syncs; with --infer a version-file change re-infers env.toml first, keeping what the
user wrote in it (init's merge). Quiet
except for one line per action; stops on Ctrl-C.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from zagi.core.errors import ZagiError
from zagi.drivers import nix
from zagi.env import sync as realize
from zagi.project import Project

DEBOUNCE_MS = 300
FIRST_SYNC_MS = 100  # also how often an idle watch wakes (in Rust; nothing to do)
# Root files whose change means detection would answer differently (for --infer).
INFER_FILES = frozenset({
    ".nvmrc", ".node-version", ".python-version", ".tool-versions", "mise.toml", ".mise.toml",
    "package.json", "pyproject.toml", "go.mod", "go.work", "Cargo.toml", "rust-toolchain.toml",
    "rust-toolchain", ".zig-version", "build.zig.zon", ".ruby-version", "Gemfile",
    "composer.json", "global.json", "Dockerfile", "compose.yaml", "docker-compose.yml",
    "devbox.json", "flake.nix",
})  # fmt: skip


def _relevant(project: Project, paths: set[Path], infer: bool) -> tuple[bool, bool]:
    """(spec or lock changed, detection inputs changed)."""
    ours = {project.env_toml, project.lock}
    env_changed = any(p in ours for p in paths)
    inputs = infer and any(p.parent == project.root and p.name in INFER_FILES for p in paths)
    return env_changed, inputs


def watch(project: Project, infer: bool, say: Callable[[str], None],
          stop: threading.Event | None = None) -> None:
    from watchfiles import watch as fs_watch  # lazy: only this command needs it

    say(f"watching {project.root} (Ctrl-C to stop)")
    try:
        _loop(project, infer, say, stop, fs_watch)
    except KeyboardInterrupt:
        # Ctrl-C during a sync or a re-infer is still "stop": the env flips atomically,
        # so what was interrupted left the previous env in place.
        say("stopped")


def _loop(project: Project, infer: bool, say: Callable[[str], None],
          stop: threading.Event | None, fs_watch: Callable[..., Any]) -> None:
    # The root and .zagi/ only, not recursively: a big repo's node_modules would cost
    # thousands of inotify watches for files that never matter here. The first sync runs
    # at the first (empty) yield, when the watches are already in place: run before
    # them, an edit landing between its end and their start was lost (a CI run caught it).
    first = True
    for changes in fs_watch(project.root, project.zagi_dir, debounce=DEBOUNCE_MS,
                            stop_event=stop, recursive=False, raise_interrupt=False,
                            yield_on_timeout=True, rust_timeout=FIRST_SYNC_MS):
        if first:
            first = False
            _sync(project, say)
            continue
        paths = {Path(p) for _, p in changes}
        env_changed, inputs = _relevant(project, paths, infer)
        if inputs:
            from zagi.project import init

            try:
                init.run(project.root, force=True, merge=True)  # keep what the user wrote
                say("re-inferred .zagi/env.toml")
            except ZagiError as exc:
                say(f"re-infer failed: {exc}")
            continue  # the rewrite of env.toml comes back as its own change
        if env_changed:
            _sync(project, say)


def _sync(project: Project, say: Callable[[str], None]) -> None:
    try:
        res = realize.sync(project, nix.Options())
    except ZagiError as exc:
        say(f"sync failed: {exc}" + (f" ({exc.hint})" if exc.hint else ""))
        return
    if not res.cached:
        say(f"env {res.env_id[:12]} ready ({'relocked, ' if res.relocked else ''}"
            f"{len(res.built)} built, {res.ms:.0f} ms)")
