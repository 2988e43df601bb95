"""A user's machine, for the tests that must not run on ours.

This workplace's Nix is single-user root with no upstream cache; no user has that. A
`Machine` is what a user has: a real `nix-daemon` (its own nix.conf, shared with its
clients, `sandbox = true`, `trusted-users = root`) on a store that starts empty (a tmpfs
on /nix in a private mount namespace: the real store is untouched), a signed upstream
cache on 127.0.0.1 standing in for cache.nixos.org (`Upstream`: the stand-in package set
built once and `nix copy`-ed there), and an unprivileged user (`zagi-tester`, made by
scripts/setup.sh) who runs zagi and git through the daemon. What was fetched and what
was built is asked of Nix itself (`nix path-info --json`), never of zagi.

Facts this relies on: ../shared/reference/real-machine.md (and docs/testing.md).
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, Ran, require
from tests.integration.conftest import STANDIN

USER = "zagi-tester"
NIX = ["nix", "--extra-experimental-features", "nix-command"]
# Every package of the stand-in set, both revisions, for this system and for i686-linux
# (which an x86_64 kernel runs, so a machine can be told `system = i686-linux` and be a
# second platform): what "cache.nixos.org" has.
_ALL = """
let debian = p: let t = builtins.tryEval (p.standinDebian or false); in t.success && t.value;
    # Like Hydra: no unfree packages; and not Debian's real programs (servers, CPython),
    # which are big and which no machine test runs (asked first: their outPath would hash
    # hundreds of MB).
    free = p: !(debian p) && (builtins.tryEval p.outPath).success;
    # every output, as Hydra uploads them (a library's dev as well as its out)
    outs = p: map (o: p.${{o}}) (p.outputs or [ "out" ]);
    pick = s: builtins.concatMap outs
      (builtins.filter free (builtins.attrValues (removeAttrs s [ "buildEnv" ])));
    both = system: pick (import {a} {{ inherit system; }}) ++ pick (import {b} {{ inherit system; }});
in both builtins.currentSystem ++ both "i686-linux"
"""
OTHER_SYSTEM = "i686-linux"


def _tester() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(USER)
    except KeyError:
        pytest.fail(f"the test user {USER!r} does not exist: run `bash scripts/setup.sh` as root")


def _system_python() -> str:
    """An interpreter the test user may run (the venv's links to one under /root, mode
    700) with the same ABI as the venv, so its compiled wheels load."""
    want = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for cand in (f"/usr/bin/{want}", f"/usr/local/bin/{want}"):
        if os.access(cand, os.X_OK):
            return cand
    pytest.fail(f"no system {want} for the test user (Debian: apt-get install {want})")


def _site_packages() -> str:
    import sysconfig

    return sysconfig.get_paths()["purelib"]


def _readable_by_others(path: Path) -> None:
    for p in [path, *path.parents]:
        if p.exists() and not p.stat().st_mode & 0o005:
            pytest.fail(f"{p} is not readable by other users, so {USER} cannot run zagi "
                        f"from {REPO}: chmod o+rx {p} (or clone the project elsewhere)")


@dataclass
class Upstream:
    """The signed binary cache standing in for cache.nixos.org, served on 127.0.0.1."""

    url: str
    public_key: str
    paths: list[str]


def start_upstream(base: Path) -> tuple[Upstream, subprocess.Popen[bytes]]:
    """Build the stand-in set in this machine's store, sign it into a cache, serve it."""
    require("nix-build")
    cache = base / "upstream"
    sec, pub = base / "upstream.sec", base / "upstream.pub"
    subprocess.run(["nix-store", "--generate-binary-cache-key", "upstream-1", str(sec), str(pub)],
                   check=True)
    expr = _ALL.format(a=STANDIN / "rev-a", b=STANDIN / "rev-b")
    built = subprocess.run(["nix-build", "--no-out-link", "-E", expr], capture_output=True,
                           text=True)
    assert built.returncode == 0, built.stderr
    outs = built.stdout.split()
    copied = subprocess.run([*NIX, "copy", "--to", f"file://{cache}?secret-key={sec}", *outs],
                            capture_output=True, text=True)
    assert copied.returncode == 0, copied.stderr
    os.chmod(base, 0o755)
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "http.server", "--bind", "127.0.0.1",
                               "--directory", str(cache), str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    _wait(lambda: _answers(url + "/nix-cache-info"), f"the upstream cache at {url}")
    closure = subprocess.run(["nix-store", "-qR", *outs], capture_output=True, text=True,
                             check=True).stdout.split()
    return Upstream(url, pub.read_text().strip(), sorted(set(closure))), server


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(url: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=1) as r:
            return bool(r.status == 200)
    except OSError:
        return False


def _wait(ready: Any, what: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.05)
    pytest.fail(f"{what} did not come up in {seconds:.0f} s")


_NAMESPACE = """
set -e
mount -t tmpfs -o mode=0755 tmpfs /nix
mkdir -p /nix/store /nix/var/nix/db /nix/var/nix/gcroots /nix/var/nix/profiles \\
         /nix/var/nix/temproots /nix/var/nix/daemon-socket /nix/var/log/nix
chgrp nixbld /nix/store && chmod 1775 /nix/store
echo ready
exec sleep infinity
"""


class Machine:
    """A fresh machine: empty store, a daemon configured as users have it, one user."""

    def __init__(self, base: Path, name: str, upstream: Upstream, nix_conf: str = "") -> None:
        require("unshare")
        require("nsenter")
        require("setpriv")
        self.user = _tester()
        self.dir = base / name
        self.home = self.dir / "home"
        self.conf_dir = self.dir / "nix-conf"
        self.home.mkdir(parents=True)
        self.conf_dir.mkdir()
        self.conf = self.conf_dir / "nix.conf"
        self.conf.write_text(
            "build-users-group = nixbld\nsandbox = true\nsandbox-fallback = false\n"
            "trusted-users = root\nrequire-sigs = true\n"
            f"substituters = {upstream.url}\ntrusted-public-keys = {upstream.public_key}\n"
            + nix_conf)
        for p in (self.dir, self.conf_dir):
            p.chmod(0o755)
        self.conf.chmod(0o644)
        os.chown(self.home, self.user.pw_uid, self.user.pw_gid)
        self.holder = subprocess.Popen(["unshare", "-m", "--propagation", "private", "bash", "-c",
                                        _NAMESPACE], stdout=subprocess.PIPE)
        assert self.holder.stdout is not None
        if self.holder.stdout.readline().strip() != b"ready":
            pytest.fail("could not make a private /nix (unshare -m and mount need root)")
        self.daemon: subprocess.Popen[bytes] | None = None
        self.start_daemon()

    # --- the daemon -----------------------------------------------------------------
    def _enter(self) -> list[str]:
        return ["nsenter", "-t", str(self.holder.pid), "-m", "--"]

    def start_daemon(self) -> None:
        # NIX_CONFIG (set for the rest of the suite) would override this nix.conf.
        self.daemon = subprocess.Popen(
            [*self._enter(), "env", "-u", "NIX_CONFIG", f"NIX_CONF_DIR={self.conf_dir}",
             "nix-daemon"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        sock = "/nix/var/nix/daemon-socket/socket"
        _wait(lambda: subprocess.run([*self._enter(), "test", "-S", sock]).returncode == 0,
              "nix-daemon")

    def restart_daemon(self) -> None:
        """What a user does after editing nix.conf."""
        assert self.daemon is not None
        self.daemon.terminate()
        self.daemon.wait(timeout=10)
        subprocess.run([*self._enter(), "rm", "-f", "/nix/var/nix/daemon-socket/socket"])
        self.start_daemon()

    def close(self) -> None:
        for p in (self.daemon, self.holder):
            if p is not None and p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()

    # --- the user -------------------------------------------------------------------
    def env(self) -> dict[str, str]:
        return {"HOME": str(self.home), "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
                "NO_COLOR": "1", "NIX_REMOTE": "daemon", "NIX_CONF_DIR": str(self.conf_dir),
                "PYTHONPATH": f"{REPO}:{_site_packages()}", "ZAGI_NIXPKGS": str(STANDIN),
                "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                "GIT_COMMITTER_EMAIL": "t@t"}

    def run(self, *argv: str, cwd: Path | None = None, check: bool = True,
            timeout: float = 300, root: bool = False) -> Ran:
        """Run a command in this machine, as the test user (or as root, `root=True`)."""
        env = [f"{k}={v}" for k, v in self.env().items()]
        who = [] if root else ["setpriv", f"--reuid={self.user.pw_uid}",
                               f"--regid={self.user.pw_gid}", "--clear-groups"]
        cp = subprocess.run([*self._enter(), *who, "env", "-i", *env, "env", "-C",
                             str(cwd or self.home), *argv], capture_output=True, text=True,
                            timeout=timeout, stdin=subprocess.DEVNULL)
        ran = Ran(cp.returncode, cp.stdout, cp.stderr)
        if check:
            assert ran.code == 0, f"{' '.join(argv)} -> {ran.code}\n{ran.out}\n{ran.err}"
        return ran

    def zagi(self, *args: str, cwd: Path | None = None, check: bool = True,
             root: bool = False) -> Ran:
        return self.run(_system_python(), "-m", "zagi", *args, cwd=cwd, check=check, root=root)

    def mkdir(self, path: Path) -> Path:
        """A directory the user owns."""
        path.mkdir(parents=True, exist_ok=True)
        os.chown(path, self.user.pw_uid, self.user.pw_gid)
        return path

    def path_info(self, paths: list[str]) -> dict[str, dict[str, Any]]:
        """Nix's own record of each path: `ultimate` (built here) and `signatures`."""
        ran = self.run(*NIX, "path-info", "--json", *paths)
        return {p["path"]: p for p in json.loads(ran.out)}

    def store_has(self, pattern: str) -> list[str]:
        ran = self.run("sh", "-c", f"ls -d /nix/store/{pattern} 2>/dev/null || true")
        return ran.out.split()


@pytest.fixture(scope="session")
def upstream() -> Iterator[Upstream]:
    _readable_by_others(REPO)
    base = Path(tempfile.mkdtemp(prefix="zagi-upstream-"))
    up, server = start_upstream(base)
    yield up
    server.terminate()
    server.wait(timeout=10)
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def machines(upstream: Upstream) -> Iterator[Any]:
    """machines(name, nix_conf="") -> a fresh Machine; all are shut down after the test."""
    base = Path(tempfile.mkdtemp(prefix="zagi-machines-"))
    base.chmod(0o755)
    made: list[Machine] = []

    def make(name: str, nix_conf: str = "") -> Machine:
        m = Machine(base, name, upstream, nix_conf)
        made.append(m)
        return m

    yield make
    for m in made:
        m.close()
    shutil.rmtree(base, ignore_errors=True)
