"""`zagi catalog update --channel`: a channel's package set downloaded once, evaluated,
and added to the user's catalog overlay, which resolution consults beside the shipped
catalog (left untouched). The channel is the stand-in set served as a channel tarball
(nixexprs.tar.xz and git-revision, as channels.nixos.org serves them) on 127.0.0.1."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO, Ran, require, zagi_exe
from tests.integration.conftest import (
    STANDIN,
    drop_roots,
    make_project,
    start_server,
    tool_output,
)

pytestmark = pytest.mark.integration
REV = "0123456789abcdef0123456789abcdef01234567"


def _tarball(where: Path) -> None:
    """nixos-test/nixexprs.tar.xz: one top directory whose default.nix is the set."""
    top = where / "src" / "nixos-test.2611.0123456789ab"
    for part in ("rev-b", "lib"):
        shutil.copytree(STANDIN / part, top / part)
    (top / "bootstrap").mkdir()
    shutil.copy(STANDIN / "bootstrap" / "busybox", top / "bootstrap" / "busybox")
    shutil.copytree(STANDIN / "bootstrap" / "libs", top / "bootstrap" / "libs")
    (top / "default.nix").write_text("args: import ./rev-b args\n")
    channel = where / "channels" / "nixos-test"
    channel.mkdir(parents=True)
    with tarfile.open(channel / "nixexprs.tar.xz", "w:xz") as tf:
        tf.add(top, arcname=top.name)
    (channel / "git-revision").write_text(REV)


@pytest.fixture
def channels(tmp_path: Path) -> Iterator[str]:
    _tarball(tmp_path)
    server, url = start_server(lambda port: [
        sys.executable, "-m", "http.server", "--bind", "127.0.0.1",
        "--directory", str(tmp_path / "channels"), str(port)], "the channel server")
    yield url
    server.terminate()
    server.wait(timeout=10)


def test_a_channel_is_added_to_the_users_overlay_and_resolves_and_builds(
        tmp_path: Path, channels: str) -> None:
    require("nix-build")
    home = tmp_path / "zagi-home"
    env = {k: v for k, v in os.environ.items() if k != "ZAGI_NIXPKGS"}  # the shipped catalog
    env.update({"ZAGI_HOME": str(home), "ZAGI_CHANNELS_URL": channels, "NO_COLOR": "1"})

    def z(*args: str, cwd: Path | None = None) -> Ran:
        cp = subprocess.run([zagi_exe(), *args], cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=600)
        return Ran(cp.returncode, cp.stdout, cp.stderr)

    shipped = (REPO / "nixgen" / "data" / "catalog.json").read_bytes()
    before = z("catalog", "resolve", "valkey@8")
    assert before.code == 2, before.out  # the shipped catalog has valkey 7 and 9 only
    try:
        added = z("catalog", "update", "--channel", "nixos-test", "--json")
        assert added.code == 0, added.err
        doc = added.json()
        assert doc["revision"] == f"nixos-test-{REV[:12]}" and doc["entries"] > 10
        assert doc["url"] == f"{channels}/nixos-test/nixexprs.tar.xz"
        assert Path(doc["overlay"]) == home / "catalog" / "overlay.json"
        assert (REPO / "nixgen" / "data" / "catalog.json").read_bytes() == shipped
        choice = z("catalog", "resolve", "valkey@8", "--json").json()
        assert (choice["version"], choice["nixpkgs"]) == ("8.0.1", doc["revision"])
        assert choice["commit"] == REV and choice["outputs"]  # paths for this system
        again = z("catalog", "update", "--channel", "nixos-test", "--json")  # idempotent
        assert again.json()["entries"] == doc["entries"]
        node = z("catalog", "search", "node", "--json").json()  # shipped lines still there
        assert {"18", "20", "22", "24"} <= {ln["line"] for ln in node["lines"]}
        p = make_project(tmp_path / "p", 'schema = 1\n[services]\nvalkey = "8"\n')
        locked = z("lock", cwd=p)
        assert locked.code == 0, locked.err
        lock = json.loads((p / ".zagi" / "env.lock").read_text())
        assert lock["packages"]["valkey"]["nixpkgs"] == doc["revision"]
        assert lock["nixpkgs"][doc["revision"]]["url"] == doc["url"]
        synced = z("sync", cwd=p)
        assert synced.code == 0, synced.err
        assert tool_output(p, "valkey-server", "--version") == "8.0.1"
        bad = z("catalog", "update", "--channel", "../etc")
        assert bad.code == 2 and "not a channel name" in bad.err
    finally:
        drop_roots(home)
