"""Hostile and broken repositories through the installed `zagi` binary: warnings, never tracebacks."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, run_zagi


def init_json(path: Path) -> dict[str, object]:
    ran = run_zagi("init", "--dry-run", "--json", str(path), timeout=60)
    assert ran.code == 0, ran.err
    assert "Traceback" not in ran.err
    data = ran.json()
    assert not [w for w in data["warnings"] if "internal error" in w]
    return data


@pytest.mark.slow
def test_200mb_lockfile_and_2gb_manifest(tmp_path: Path) -> None:
    with (tmp_path / "package-lock.json").open("wb") as fh:
        fh.write(b'{\n  "name": "big",\n  "lockfileVersion": 3,\n  "packages": {\n')
        chunk = b'    "node_modules/pkg": {"version": "1.0.0", "integrity": "sha512-xx"},\n' * 16384
        while fh.tell() < 200 << 20:
            fh.write(chunk)
    with (tmp_path / "package.json").open("wb") as fh:
        fh.truncate(2 << 30)
    data = init_json(tmp_path)
    assert data["tools"]["npm"]["version"] == ">=7"  # read from the lockfile's head
    assert any("package.json: too large" in w for w in data["warnings"])


def test_symlink_loops_fifo_and_non_utf8_names(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text("{}")
    os.symlink("loop2", tmp_path / "loop1")
    os.symlink("loop1", tmp_path / "loop2")
    os.symlink(".", tmp_path / "again")
    os.symlink("loop1", tmp_path / ".nvmrc")
    os.mkfifo(tmp_path / "go.mod")
    raw = os.fsencode(tmp_path)
    os.mkdir(raw + b"/caf\xe9")
    with open(raw + b"/caf\xe9/package.json", "wb") as fh:
        fh.write(b"{}")
    with open(raw + b"/\xff\xfe.nvmrc", "wb") as fh:
        fh.write(b"99")
    data = init_json(tmp_path)
    assert data["tools"]["node"]["version"] == "lts"
    assert any("go.mod: not a regular file" in w for w in data["warnings"])
    assert any(".nvmrc: cannot read" in w for w in data["warnings"])


def test_committed_hostile_fixtures_through_the_binary(tmp_path: Path) -> None:
    for name in ("binary-package-json", "malformed-json", "malformed-toml-yaml",
                 "symlink-outside", "empty-repo"):
        data = init_json(FIXTURES / name)
        assert data["warnings"], name


def test_unreadable_and_empty_files(tmp_path: Path) -> None:
    (tmp_path / ".nvmrc").write_text("")
    (tmp_path / "package.json").write_text("[1, 2]")
    (tmp_path / "pyproject.toml").write_text("")
    data = init_json(tmp_path)
    assert any(".nvmrc: empty" in w for w in data["warnings"])
    assert any("expected a JSON object" in w for w in data["warnings"])


def test_no_code_runs(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURES / "no-code-execution", repo, symlinks=True)
    ran = run_zagi("init", str(repo), cwd=repo)
    assert ran.code == 0, ran.err
    assert (repo / ".zagi" / "env.toml").exists()
    created = sorted(p.name for p in tmp_path.rglob("*PWNED*"))
    assert created == []
    assert not Path("/PWNED-docker").exists()
