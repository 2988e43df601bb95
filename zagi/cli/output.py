"""Output for people (rich, lazily imported) and for agents (--json), and error rendering.

This module is the only place an error becomes text. Rich honours NO_COLOR and
plain pipes by itself; JSON always goes to stdout, messages to stderr.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
from typing import TYPE_CHECKING, Any

from zagi.core.errors import ZagiError

if TYPE_CHECKING:
    from rich.console import Console

    from zagi.env.result import SyncResult


@functools.cache
def console(stderr: bool = False) -> Console:
    """One console per stream (rich spends ~13 ms probing the terminal for each)."""
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False) + "\n")


def setup_logging(verbose: bool) -> None:
    if verbose:
        logging.basicConfig(level=logging.DEBUG, format="zagi: %(name)s: %(message)s",
                            stream=sys.stderr)


def verbose_enabled() -> bool:
    return logging.getLogger().isEnabledFor(logging.DEBUG)


def print_notes(res: SyncResult, said: list[str] | None = None) -> None:
    """Why a cache was skipped, and the like: on stderr, in --json mode too (`said`: the
    notes the progress display already printed as they happened)."""
    for note in res.notes:
        if note not in (said or []):
            console(stderr=True).print(f"note: {note}", markup=False, highlight=False)


def print_sync(res: SyncResult, said: list[str] | None = None, from_mirror: bool = False) -> None:
    """A sync's outcome for people (`zagi sync`, `zagi clone`)."""
    print_notes(res, said)
    con = console()
    if res.relocked:
        con.print("env.toml changed: relocked", markup=False)
    if res.cached or not res.built:  # "cached" = nothing had to be built
        where = f" from {res.source}" if res.source else ""
        how = "cached from mirror" if from_mirror else "cached"
        con.print(f"Resolving env... {how} ({res.ms:.0f} ms){where}", markup=False,
                  highlight=False)
    else:
        con.print(f"Resolving env... built ({res.ms / 1000:.1f} s: {len(res.built)} "
                  f"derivation(s), {len(res.fetched)} fetched)", markup=False)
    con.print(f".zagi/env -> {res.out}", markup=False, highlight=False)


def render_error(err: ZagiError, as_json: bool) -> None:
    if as_json:
        emit_json(err.to_json())
        return
    from rich.markup import escape

    con = console(stderr=True)
    con.print(f"[bold red]error:[/] {escape(str(err))}", markup=True, highlight=False)
    tail = getattr(err, "log_tail", "")  # NixError: the last lines of the failing build
    if tail:
        con.print(escape(tail), markup=False, highlight=False, style="dim")
    if err.hint:
        con.print(f"[dim]hint:[/] {escape(err.hint)}", markup=True, highlight=False)


def render_internal(exc: BaseException, as_json: bool, verbose: bool) -> None:
    """A bug of ours: say so plainly; the traceback (never with locals) only with -v."""
    msg = f"internal error: {type(exc).__name__}: {exc}"
    if as_json:
        emit_json({"error": msg, "exit_code": 1})
    else:
        sys.stderr.write(f"zagi: {msg}\n(run again with -v for the traceback; please report it)\n")
    if verbose:
        import traceback

        traceback.print_exception(exc, file=sys.stderr)


def report_moved(moved: Any, as_json: bool, done: str) -> int:
    """A checkout's or revert's outcome (zagi/history/checkout.py Moved); the exit code."""
    from zagi.history import envdiff

    if as_json:
        emit_json(moved.to_json())
        return 1 if moved.error is not None else 0
    con = console()
    con.print(done, markup=False, highlight=False)
    for c in moved.changes:
        con.print(f"  env: {envdiff.render(c)}", markup=False, highlight=False)
    if moved.sync is not None:
        print_sync(moved.sync)
        if not moved.allowed:
            con.print("this env is not allowed in this project yet: `zagi allow` to activate "
                      "it in your shell", markup=False)
    if moved.services:
        con.print(f"  services up: {', '.join(moved.services)}", markup=False, highlight=False)
    if moved.error is not None:
        render_error(moved.error, False)
        return 1
    return 0
