"""Shared helpers: run the real CLI in-process (fast) or as a subprocess (isolated)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures" / "repos"


@pytest.fixture(autouse=True, scope="session")
def offline_nix() -> None:
    """This machine cannot reach cache.nixos.org, so Nix is configured the way an offline
    user configures it: no substituters, in Nix's own settings (NIX_CONFIG, read by every
    Nix process the tests start, through zagi or not). zagi itself never sets them; the
    daemon tests (tests/integration/machine.py) give their daemon a nix.conf instead."""
    if "substituters" not in os.environ.get("NIX_CONFIG", ""):
        os.environ["NIX_CONFIG"] = os.environ.get("NIX_CONFIG", "") + "\nsubstituters =\n"


@pytest.fixture(autouse=True, scope="session")
def isolated_zagi_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A test that forgets ZAGI_HOME (a git hook running zagi, a helper) must not write GC
    roots into the real ~/.zagi: they would keep store paths alive for every later run."""
    home = tmp_path_factory.mktemp("default-zagi-home")
    os.environ["ZAGI_HOME"] = str(home)
    # Services' state: as root it would be /var/lib/zagi/services. Its servers run as the
    # service user, so the directory sits where that user can reach it (not under
    # pytest's 0700 tree) and goes at the end.
    services = Path(tempfile.mkdtemp(prefix="zagi-test-services-"))
    services.chmod(0o755)
    os.environ["ZAGI_SERVICES_HOME"] = str(services)
    yield
    shutil.rmtree(home / "roots", ignore_errors=True)
    shutil.rmtree(services, ignore_errors=True)


@dataclass
class Ran:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def zagi(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
         tmp_path: Path) -> Callable[..., Ran]:
    """Run `zagi ARGS` through zagi.cli.main.run, the console script's own path."""
    from zagi.cli.main import run

    monkeypatch.setenv("ZAGI_HOME", str(tmp_path / "zagi-home"))
    monkeypatch.setenv("NO_COLOR", "1")

    def call(*args: str) -> Ran:
        capsys.readouterr()
        code = run(list(args))
        cap = capsys.readouterr()
        return Ran(code, cap.out, cap.err)

    return call


def zagi_exe() -> str:
    exe = Path(sys.executable).parent / "zagi"
    assert exe.exists(), f"console script missing at {exe}: run bash scripts/setup.sh"
    return str(exe)


def run_zagi(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
             timeout: float = 60) -> Ran:
    """Run the installed `zagi` console script as a separate process."""
    full = {**os.environ, "NO_COLOR": "1", **(env or {})}
    cp = subprocess.run([zagi_exe(), *args], cwd=cwd, env=full, capture_output=True, text=True,
                        timeout=timeout, stdin=subprocess.DEVNULL)
    return Ran(cp.returncode, cp.stdout, cp.stderr)


def require(program: str) -> str:
    """Integration tests need real programs; a missing one fails (never skips) with the fix."""
    path = shutil.which(program)
    if path is None:
        pytest.fail(f"{program} is not installed; run `bash scripts/setup.sh` as root to install it")
    return path
