"""Integration fixtures: real Nix with the stand-in package set, an isolated ZAGI_HOME."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO, Ran, require, run_zagi

STANDIN = REPO / "fixtures" / "nixpkgs"


def drop_roots(zagi_home: Path) -> None:
    """Unregister a test's GC roots, so store paths do not stay alive across tests and runs."""
    import shutil

    shutil.rmtree(zagi_home / "roots", ignore_errors=True)


@pytest.fixture
def zenv(tmp_path: Path) -> Iterator[dict[str, str]]:
    require("nix-build")
    require("nix-store")
    yield {"ZAGI_NIXPKGS": str(STANDIN), "ZAGI_HOME": str(tmp_path / "zagi-home")}
    drop_roots(tmp_path / "zagi-home")


@pytest.fixture
def z(zenv: dict[str, str]) -> Callable[..., Ran]:
    """Run the installed zagi (a real process, real Nix) with the stand-in set."""

    def call(*args: str, cwd: Path | None = None, check: bool = True) -> Ran:
        ran = run_zagi(*args, cwd=cwd, env=zenv, timeout=300)
        if check:
            assert ran.code == 0, f"zagi {' '.join(args)} -> {ran.code}\n{ran.out}\n{ran.err}"
        return ran

    return call


def make_project(root: Path, env_toml: str) -> Path:
    (root / ".zagi").mkdir(parents=True)
    (root / ".zagi" / "env.toml").write_text(env_toml)
    return root


def tool_output(project: Path, tool: str, *args: str) -> str:
    import subprocess

    exe = project / ".zagi" / "env" / "bin" / tool
    assert os.access(exe, os.X_OK), f"{exe} missing"
    return subprocess.run([str(exe), *args], capture_output=True, text=True, check=True).stdout.strip()
