"""Output for people (rich, lazily imported) and for agents (--json), and error rendering.

This module is the only place an error becomes text. Rich honours NO_COLOR and
plain pipes by itself; JSON always goes to stdout, messages to stderr.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import TYPE_CHECKING, Any

from zagi.core.errors import ZagiError

if TYPE_CHECKING:
    from rich.console import Console


def console(stderr: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False) + "\n")


def setup_logging(verbose: bool) -> None:
    if verbose:
        logging.basicConfig(level=logging.DEBUG, format="zagi: %(name)s: %(message)s",
                            stream=sys.stderr)


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
