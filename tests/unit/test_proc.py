"""The subprocess chokepoint: missing programs, timeouts, streaming."""

from __future__ import annotations

import pytest

from zagi.core import proc
from zagi.core.errors import ZagiError


def test_missing_program_is_a_zagi_error() -> None:
    with pytest.raises(ZagiError, match="no-such-program-zagi: program not found"):
        proc.run(["no-such-program-zagi"])
    with pytest.raises(ZagiError, match="program not found"):
        proc.stream(["no-such-program-zagi"], lambda _: None)


def test_run_captures_and_never_reads_stdin() -> None:
    res = proc.run(["sh", "-c", "cat; echo out; echo err >&2; exit 3"])
    assert (res.returncode, res.stdout, res.stderr) == (3, "out\n", "err\n")


def test_stream_hands_over_lines_as_they_come() -> None:
    seen: list[str] = []
    res = proc.stream(["sh", "-c", "echo a >&2; echo result; echo b >&2"], seen.append)
    assert seen == ["a", "b"] and res.stdout == "result\n" and res.ok


def test_timeouts() -> None:
    with pytest.raises(ZagiError, match="did not finish"):
        proc.run(["sleep", "5"], timeout=0.2)
    with pytest.raises(ZagiError, match="did not finish"):
        proc.stream(["sh", "-c", "echo x >&2; sleep 5"], lambda _: None, timeout=0.5)
