"""`zagi hook bash --install` on a machine whose bash is too old for the hook (macOS)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Ran


def _bash_reporting(tmp_path: Path, versinfo: str) -> Path:
    """A `bash` on PATH that answers the version probe as that bash would."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "bash").write_text(f"#!/bin/sh\necho '{versinfo}'\n")
    (bindir / "bash").chmod(0o755)
    return bindir


@pytest.mark.parametrize(("versinfo", "warned"), [("3 2 3.2.57(1)-release", True),
                                                   ("5 2 5.2.15(1)-release", False)])
def test_install_warns_when_bash_is_older_than_4_3(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, zagi: Callable[..., Ran],
        versinfo: str, warned: bool) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("PATH", f"{_bash_reporting(tmp_path, versinfo)}:/usr/bin:/bin")
    data = zagi("hook", "bash", "--install", "--json").json()
    assert data["added"] is True
    assert (data["warning"] is not None) == warned
    if warned:
        assert "3.2.57" in data["warning"] and "4.3" in data["warning"]
    assert "zagi hook bash" in (tmp_path / ".bashrc").read_text()
