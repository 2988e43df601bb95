"""`zagi doctor` against the real Nix and git on this machine."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.conftest import require, run_zagi


def test_doctor_reports_real_nix_and_git(tmp_path: Path) -> None:
    require("nix")
    require("git")
    real = subprocess.run(["nix", "--version"], capture_output=True, text=True, check=True)
    ran = run_zagi("doctor", "--json", env={"ZAGI_HOME": str(tmp_path / "home")})
    checks = {c["name"]: c for c in ran.json()["checks"]}
    assert checks["nix"]["status"] == "ok"
    assert real.stdout.split()[-1] in checks["nix"]["detail"]
    assert checks["nix sandbox"]["detail"].startswith("sandbox = ")
    assert checks["git"]["status"] == "ok"
    assert str(tmp_path / "home") in checks["ZAGI_HOME"]["detail"]
    assert ran.code == (1 if ran.json()["problems"] else 0)


def test_doctor_without_nix_says_how_to_fix(tmp_path: Path) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    git = require("git")
    os.symlink(git, bindir / "git")
    ran = run_zagi("doctor", "--json", env={"PATH": str(bindir), "ZAGI_HOME": str(tmp_path)})
    assert ran.code == 1
    nix = next(c for c in ran.json()["checks"] if c["name"] == "nix")
    assert nix["status"] == "fail" and "apt-get install nix-bin" in nix["fix"]


def test_doctor_flags_a_readable_secret_key(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / "mine.sec").write_text("mine:AAAA")
    (keys / "mine.sec").chmod(0o644)
    ran = run_zagi("doctor", "--json", env={"ZAGI_HOME": str(tmp_path)})
    key = next(c for c in ran.json()["checks"] if c["name"] == "key mine")
    assert key["status"] == "fail" and key["fix"] == f"chmod 600 {keys / 'mine.sec'}"
    assert ran.code == 1
