"""Shared timing helpers: wall-clock medians of whole commands (these machines are noisy)."""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Sequence


def compile_sources() -> None:
    """Byte-compile zagi's packages, as `pip install` does for a wheel.

    An editable install leaves sources uncompiled, and some machines (this one) set
    PYTHONDONTWRITEBYTECODE, so without this every timed run would recompile zagi and
    measure something no user sees. Existing .pyc files are read even with that set.
    """
    import compileall
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    for pkg in ("zagi", "detectors", "nixgen", "mirror", "shellhooks"):
        compileall.compile_dir(root / pkg, quiet=1)


def time_cmd(argv: Sequence[str], runs: int, shell: bool = False, cwd: str | None = None) -> float:
    """Median seconds of `runs` executions (after one warm-up) of argv."""
    def once() -> float:
        t0 = time.perf_counter()
        subprocess.run(argv if not shell else argv[0], shell=shell, cwd=cwd, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.perf_counter() - t0

    once()
    return statistics.median(once() for _ in range(runs))


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"
