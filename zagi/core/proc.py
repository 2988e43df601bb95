"""The one place zagi starts processes.

Every subprocess goes through `run`, so logging, timeouts, the environment and
"never a shell" are decided once. Arguments are a list (no shell parsing), stdin
is closed unless given, and a missing program becomes a ZagiError naming it.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from zagi.core.errors import ZagiError

log = logging.getLogger("zagi.proc")
_F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)  # Linux


@dataclass(frozen=True)
class Result:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def which(program: str) -> str | None:
    return shutil.which(program)


def run(
    argv: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 60.0,
    check: bool = False,
    input_text: str | None = None,
    inherit_env: bool = True,
    as_user: tuple[int, int] | None = None,
) -> Result:
    """Run argv and capture its output as text.

    `env` entries are added to (not replacing) the current environment, unless
    `inherit_env` is false: then `env` is all the process gets (servers must not see the
    user's tokens). `as_user` (uid, gid) drops root for the child, with no supplementary
    groups (services' data belongs to their own user). Only the
    program name is logged at debug level, never the arguments: they may one day
    carry paths to key material, and logs end up in bug reports.
    """
    import subprocess  # lazy: `zagi run`'s fast path only ever execs

    full_env = ({**os.environ, **env} if env else None) if inherit_env else dict(env or {})
    log.debug("run %s (cwd=%s)", argv[0], cwd)
    drop: dict[str, object] = {}
    if as_user is not None:
        drop = {"user": as_user[0], "group": as_user[1], "extra_groups": []}
    try:
        cp = subprocess.run(  # type: ignore[call-overload]
            list(argv),
            cwd=cwd,
            env=full_env,
            **drop,
            input=input_text,
            stdin=None if input_text is not None else subprocess.DEVNULL,
            capture_output=True,
            # Output is not always text (git show of a binary file): decode losslessly.
            encoding="utf-8",
            errors="surrogateescape",
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError as exc:
        raise ZagiError(f"{argv[0]}: program not found", hint="run `zagi doctor`") from exc
    except subprocess.TimeoutExpired as exc:
        raise ZagiError(f"{argv[0]} did not finish within {timeout:.0f}s") from exc
    res = Result(tuple(argv), cp.returncode, cp.stdout, cp.stderr)
    if check and not res.ok:
        tail = "\n".join(res.stderr.strip().splitlines()[-10:])
        raise ZagiError(f"{argv[0]} failed with exit code {res.returncode}", hint=tail or None)
    return res


def stream(
    argv: Sequence[str],
    on_stderr: Callable[[str], None],
    *,
    timeout: float = 3600.0,
    env: Mapping[str, str] | None = None,
) -> Result:
    """Like `run`, but hands each stderr line to `on_stderr` as it arrives (for progress);
    `env` entries are added to the current environment.

    stdout is small for the commands this serves (nix-store prints result paths), so
    it is read after stderr closes; stderr is also kept for error reports.
    """
    import selectors
    import subprocess
    import time

    log.debug("stream %s", argv[0])
    try:
        p = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, encoding="utf-8", errors="surrogateescape",
                             bufsize=1, env={**os.environ, **env} if env else None)
    except FileNotFoundError as exc:
        raise ZagiError(f"{argv[0]}: program not found", hint="run `zagi doctor`") from exc
    assert p.stdout is not None and p.stderr is not None
    err_lines: list[str] = []
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as sel:
        sel.register(p.stderr, selectors.EVENT_READ)
        while True:
            if time.monotonic() > deadline:
                p.kill()
                p.wait()
                raise ZagiError(f"{argv[0]} did not finish within {timeout:.0f}s")
            if not sel.select(timeout=0.5):
                continue
            line = p.stderr.readline()
            if not line:
                break
            err_lines.append(line)
            on_stderr(line.rstrip("\n"))
    out = p.stdout.read()
    code = p.wait()
    return Result(tuple(argv), code, out, "".join(err_lines))


def read(argv: Sequence[str], *, chunk: int = 1 << 20, timeout: float = 3600.0) -> Iterator[bytes]:
    """argv's stdout as bytes, in pieces of up to `chunk`, as it comes (a NAR dump of a
    GB never sits in memory). The process is killed if the reader stops early; a
    nonzero exit raises ZagiError with stderr's tail once stdout has ended."""
    import subprocess
    import tempfile
    import time

    log.debug("read %s", argv[0])
    deadline = time.monotonic() + timeout
    with tempfile.TemporaryFile() as err:  # a file, not a pipe: it can never fill and block
        try:
            p = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=err, bufsize=0)
        except FileNotFoundError as exc:
            raise ZagiError(f"{argv[0]}: program not found", hint="run `zagi doctor`") from exc
        assert p.stdout is not None
        with contextlib.suppress(OSError):  # a bigger pipe: fewer, larger reads
            fcntl.fcntl(p.stdout.fileno(), _F_SETPIPE_SZ, chunk)
        try:
            while piece := p.stdout.read(chunk):
                yield piece
                if time.monotonic() > deadline:
                    raise ZagiError(f"{argv[0]} did not finish within {timeout:.0f}s")
            code = p.wait()
        finally:
            if p.returncode is None:
                p.kill()
                p.wait()
            p.stdout.close()
        if code != 0:
            err.seek(0)
            tail = "\n".join(err.read().decode(errors="replace").strip().splitlines()[-10:])
            raise ZagiError(f"{argv[0]} failed with exit code {code}", hint=tail or None)


def call(argv: Sequence[str], env: Mapping[str, str], cwd: Path | None = None,
         timeout: float | None = None, stdout_to_stderr: bool = False) -> int:
    """Run argv with this terminal (stdin, stdout, stderr inherited; stdout sent to stderr
    when zagi's own stdout carries a result) and `env` as its whole environment; its exit
    status (128+N for a signal, as shells report it)."""
    import subprocess

    log.debug("call %s", argv[0])
    try:
        code = subprocess.run(list(argv), env=dict(env), cwd=cwd, timeout=timeout, check=False,
                              stdout=sys.stderr if stdout_to_stderr else None).returncode
    except FileNotFoundError as exc:
        raise ZagiError(f"{argv[0]}: program not found") from exc
    return 128 - code if code < 0 else code


def replace_process(argv: Sequence[str], env: Mapping[str, str]) -> NoReturn:
    """exec: become `argv` (same pid, stdin/stdout, signals and exit status are its own).

    A missing program exits 127 and an unrunnable one 126, as shells do.
    """
    log.debug("exec %s", argv[0])
    try:
        os.execvpe(argv[0], list(argv), dict(env))  # noqa: S606 - argv, never a shell string
    except FileNotFoundError:
        sys.stderr.write(f"zagi: {argv[0]}: command not found in the env or on PATH\n")
        raise SystemExit(127) from None
    except PermissionError:
        sys.stderr.write(f"zagi: {argv[0]}: permission denied\n")
        raise SystemExit(126) from None
