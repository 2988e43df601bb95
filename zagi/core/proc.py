"""The one place zagi starts processes.

Every subprocess goes through `run`, so logging, timeouts, the environment and
"never a shell" are decided once. Arguments are a list (no shell parsing), stdin
is closed unless given, and a missing program becomes a ZagiError naming it.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from zagi.core.errors import ZagiError

log = logging.getLogger("zagi.proc")


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
) -> Result:
    """Run argv and capture its output as text.

    `env` entries are added to (not replacing) the current environment. Only the
    program name is logged at debug level, never the arguments: they may one day
    carry paths to key material, and logs end up in bug reports.
    """
    full_env = {**os.environ, **env} if env else None
    log.debug("run %s (cwd=%s)", argv[0], cwd)
    try:
        cp = subprocess.run(
            list(argv),
            cwd=cwd,
            env=full_env,
            input=input_text,
            stdin=None if input_text is not None else subprocess.DEVNULL,
            capture_output=True,
            text=True,
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
