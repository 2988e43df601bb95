"""Files a cloned repository (or a full disk, or a second process) can hand zagi: each is a
clear error or a correct result, never a hang, a traceback or a lost edit."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import Ran, run_zagi, zagi_exe
from tests.integration.conftest import make_project

pytestmark = pytest.mark.integration


def _project(tmp_path: Path, toml: str = '[tools]\nnode = "20"\n') -> Path:
    return make_project(tmp_path / "p", toml)


@pytest.mark.parametrize("name", ["env.toml", "env.lock", "secrets.enc", "recipients"])
def test_a_fifo_where_a_file_should_be_fails_at_once(tmp_path: Path, name: str) -> None:
    p = _project(tmp_path)
    target = p / ".zagi" / name
    target.unlink(missing_ok=True)
    os.mkfifo(target)
    cmd = {"env.toml": ["lock"], "env.lock": ["allow"], "secrets.enc": ["secrets", "ls"],
           "recipients": ["secrets", "recipients", "ls"]}[name]
    ran = run_zagi(*cmd, cwd=p, env={"ZAGI_HOME": str(tmp_path / "zh")}, timeout=20)
    # env.toml is how a project is found: a FIFO there is no project at all
    said = "no .zagi/env.toml" if name == "env.toml" else "not a regular file"
    assert ran.code == 2 and said in ran.err, ran.err
    assert "Traceback" not in ran.err


def test_a_symlink_to_dev_zero_is_refused(tmp_path: Path) -> None:
    p = _project(tmp_path)
    (p / ".zagi" / "env.lock").symlink_to("/dev/zero")
    ran = run_zagi("sync", "--frozen", cwd=p, env={"ZAGI_HOME": str(tmp_path / "zh")}, timeout=20)
    assert ran.code == 2 and "not a regular file" in ran.err and "Traceback" not in ran.err


def test_deeply_nested_toml_is_bad_input(tmp_path: Path) -> None:
    p = _project(tmp_path, "x = " + "[" * 50_000 + "]" * 50_000 + "\n")
    ran = run_zagi("lock", cwd=p, env={"ZAGI_HOME": str(tmp_path / "zh")}, timeout=20)
    assert ran.code == 2 and "Traceback" not in ran.err and "internal error" not in ran.err


def test_a_100000_digit_version_is_refused(tmp_path: Path) -> None:
    p = _project(tmp_path)
    huge = "2" * 100_000
    ran = run_zagi("add", f"node@{huge}", "--no-lock", "-C", str(p), timeout=20)
    assert ran.code == 2 and "not a version request" in ran.err and len(ran.err) < 2000
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / ".nvmrc").write_text(huge + "\n")
    (repo / "package.json").write_text("{}")
    ran = run_zagi("init", "--dry-run", "--json", str(repo), timeout=30)
    assert ran.code == 0 and huge not in ran.out  # detection does not copy it


def test_concurrent_adds_all_land(tmp_path: Path) -> None:
    tools = ["bun@1", "deno@2", "zig@0.13", "go@1.22", "uv@0.4", "pnpm@9"]
    for round_ in range(6):
        p = make_project(tmp_path / f"r{round_}", '[tools]\nnode = "20"\n')

        def add(item: str, p: Path = p) -> int:
            return subprocess.run([zagi_exe(), "add", item, "--no-lock", "-C", str(p)],
                                  capture_output=True, timeout=60).returncode

        with ThreadPoolExecutor(len(tools)) as pool:
            assert list(pool.map(add, tools)) == [0] * len(tools)
        text = (p / ".zagi" / "env.toml").read_text()
        lost = [t for t in tools if f'{t.split("@")[0]} = ' not in text]
        assert lost == [], f"round {round_}: lost {lost}"
        assert sorted(os.listdir(p / ".zagi")) == ["env.toml"]  # no lock file left behind


def test_allow_on_a_full_disk_does_not_leave_the_project_allowed(
        tmp_path: Path, z: Callable[..., Ran], zenv: dict[str, str]) -> None:
    p = _project(tmp_path)
    z("lock", cwd=p)
    # `ulimit -f 0` makes every write fail (EFBIG) as a full disk would (ENOSPC).
    cp = subprocess.run(["bash", "-c", f'ulimit -f 0; trap "" XFSZ; exec {zagi_exe()} allow'],
                        cwd=p, env={**os.environ, **zenv}, capture_output=True, text=True,
                        timeout=60)
    assert cp.returncode != 0 and "Traceback" not in cp.stderr
    allow = Path(zenv["ZAGI_HOME"]) / "allow"
    granted = [f for f in allow.rglob("*") if f.is_file() and not f.name.startswith(".")]
    assert granted == [], "a failed allow must not count as trust"
