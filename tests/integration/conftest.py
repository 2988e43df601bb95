"""Integration fixtures: real Nix with the stand-in package set, an isolated ZAGI_HOME."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, Ran, require, run_zagi

STANDIN = REPO / "fixtures" / "nixpkgs"


def drop_roots(zagi_home: Path) -> None:
    """Unregister a test's GC roots, so store paths do not stay alive across tests and runs."""
    import shutil

    shutil.rmtree(zagi_home / "roots", ignore_errors=True)


@pytest.fixture(scope="session")
def standin_with_paths(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The stand-in's catalog with each entry's store paths on this machine (what the
    shipped catalog's facts carry), so the tests lock by store path as users do. Made
    per machine, not committed: the stand-in's bootstrap is this machine's busybox, so
    its paths are this machine's own. Revision paths point back at fixtures/nixpkgs."""
    require("nix-instantiate")
    out = tmp_path_factory.mktemp("standin-catalog") / "catalog.json"
    ran = run_zagi("catalog", "update", "--nixpkgs", str(STANDIN / "rev-a"), "--nixpkgs",
                   str(STANDIN / "rev-b"), "--paths-for", "x86_64-linux", "--paths-for",
                   "i686-linux", "--out", str(out), timeout=300)
    assert ran.code == 0, ran.err
    return out.parent


@pytest.fixture
def zenv(tmp_path: Path, standin_with_paths: Path) -> Iterator[dict[str, str]]:
    require("nix-build")
    require("nix-store")
    yield {"ZAGI_NIXPKGS": str(standin_with_paths), "ZAGI_HOME": str(tmp_path / "zagi-home")}
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


def start_server(argv: Callable[[int], list[str]], what: str) -> tuple[Any, str]:
    """A server process on a free 127.0.0.1 port (`argv(port)`), once it accepts
    connections: (process, http://127.0.0.1:PORT). Fails the test if it never does."""
    import socket
    import subprocess
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(argv(port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    proc.kill()
    pytest.fail(f"{what} did not start")


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """moto's standalone S3 server as its own process on 127.0.0.1; yields its endpoint."""
    import sys

    exe = Path(sys.executable).parent / "moto_server"
    assert exe.exists(), "moto_server missing: run bash scripts/setup.sh (moto[server] test extra)"
    proc, endpoint = start_server(lambda port: [str(exe), "-H", "127.0.0.1", "-p", str(port)],
                                  "moto_server")
    yield endpoint
    proc.terminate()
    proc.wait(timeout=10)


S3_ENV = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
          "AWS_DEFAULT_REGION": "us-east-1"}


def new_bucket(endpoint: str) -> str:
    import uuid

    import boto3

    name = f"zagi-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                 aws_access_key_id="test", aws_secret_access_key="test").create_bucket(Bucket=name)
    return name


# The "user's machine" fixtures (a real nix-daemon, an empty store, an untrusted user).
from tests.integration.machine import machines, upstream  # noqa: E402, F401
