"""The attack suite: an agent under `zagi agent` is an adversary (issue: every hole an
attack pass found gets a test that fails on the code before the fix).

Each route is tried inside the agent (tests/integration/attack_agent.py), as root and as
an unprivileged user; the same script run outside the sandbox is the control that shows
the routes do reach the secret there. The figure is printed: routes tried, leaks.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import site
import socket
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO, require, zagi_exe
from tests.integration.conftest import STANDIN, drop_roots

pytestmark = pytest.mark.integration
SCRIPT = Path(__file__).with_name("attack_agent.py")
USER = "zagi-agent-test"
PROTECTED = [".zagi/recipients", ".zagi/config.toml", ".zagi/secrets.enc", ".git/config"]


@dataclass
class Box:
    base: Path
    proj: Path
    home: Path
    zh: Path
    env: dict[str, str]
    canary: str
    socket: str
    as_user: bool

    @property
    def identity(self) -> Path:
        return self.home / ".config" / "zagi" / "identity.txt"

    def argv(self, *args: str, root: bool = False) -> list[str]:
        if not self.as_user or root:
            return [zagi_exe(), *args]
        # The venv's interpreter lives under /root (0700); the system one of the same
        # version runs the same code for another user.
        py = Path(f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}")
        main = "import sys; sys.argv[0] = 'zagi'; from zagi.__main__ import main; main()"
        return [require("runuser"), "-u", USER, "--", str(py if py.exists() else sys.executable),
                "-c", main, *args]

    def z(self, *args: str, stdin: str | None = None, extra: dict[str, str] | None = None,
          root: bool = False) -> subprocess.CompletedProcess[str]:
        cp = subprocess.run(self.argv(*args, root=root), cwd=self.proj, env={**self.env, **(extra or {})},
                            input=stdin, capture_output=True, text=True, timeout=300)
        assert cp.returncode == 0, f"zagi {args} -> {cp.returncode}\n{cp.stdout}\n{cp.stderr}"
        return cp

    def fingerprint(self) -> dict[str, str]:
        files = [self.proj / f for f in PROTECTED]
        env_dirs = list((self.zh / "envs").iterdir())
        files += [f for d in env_dirs for f in sorted(d.iterdir()) if f.name != "last-used"]
        return {str(f): hashlib.sha256(f.read_bytes()).hexdigest() for f in files if f.is_file()}


def _serve_canary(path: str, canary: str, stop: threading.Event) -> None:
    """A same-user unix socket outside the sandbox that hands out the secret (as a tmux
    server would hand out its panes)."""
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(path)
    os.chmod(path, 0o777)
    srv.listen(8)
    srv.settimeout(0.2)
    while not stop.is_set():
        try:
            conn, _ = srv.accept()
        except TimeoutError:
            continue
        conn.sendall(canary.encode())
        conn.close()
    srv.close()


def _make_user() -> tuple[int, int]:
    if subprocess.run(["id", USER], capture_output=True).returncode != 0:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/bin/sh", USER],
                       check=True)
    pw = pwd.getpwnam(USER)
    return pw.pw_uid, pw.pw_gid


@pytest.fixture(params=["root", "user"])
def box(request: pytest.FixtureRequest) -> Iterator[Box]:
    require("age")
    require("bwrap")
    require("nix-store")
    as_user = request.param == "user"
    base = Path(tempfile.mkdtemp(prefix="zagi-attack-", dir="/tmp"))
    base.chmod(0o755)
    proj, home, zh = base / "proj", base / "home", base / "zh"
    (proj / ".zagi").mkdir(parents=True)
    home.mkdir()
    (proj / ".zagi" / "env.toml").write_text('[tools]\nnode = "20"\n')
    (proj / ".zagi" / "config.toml").write_text('[cache]\nurls = []\n')
    subprocess.run(["git", "init", "-q", str(proj)], check=True)
    shutil.copy(SCRIPT, proj / "attack.py")
    canary = f"sk_live_{uuid.uuid4().hex}"
    for rel in (".ssh/id_ed25519", ".aws/credentials", ".netrc", ".git-credentials",
                ".config/gh/hosts.yml", ".docker/config.json"):  # the user's other logins
        (home / rel).parent.mkdir(parents=True, exist_ok=True)
        (home / rel).write_text(f"token {canary}\n")
    env = {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), "ZAGI_HOME": str(zh),
           "ZAGI_NIXPKGS": str(STANDIN), "TMPDIR": str(base), "LANG": "C.UTF-8",
           "PATH": f"{Path(zagi_exe()).parent}:/usr/bin:/bin"}
    sock_dir = base / f"tmux-{uuid.uuid4().hex[:8]}"
    sock_dir.mkdir()
    sock_dir.chmod(0o777)
    b = Box(base, proj, home, zh, env, canary, str(sock_dir / "default"), as_user)
    stop = threading.Event()
    server = threading.Thread(target=_serve_canary, args=(b.socket, canary, stop), daemon=True)
    server.start()
    try:
        # Single-user Nix builds as root only; the env is then handed to the user (the
        # daemon case is the real-Nix harness's), who does everything else.
        b.z("sync", root=True)
        if as_user:
            uid, gid = _make_user()
            env["PYTHONPATH"] = ":".join([str(REPO), *site.getsitepackages()])
            for p in [base, *base.rglob("*")]:
                os.lchown(p, uid, gid)
        b.z("allow")
        b.z("secrets", "init")
        b.z("secrets", "set", "API_KEY", stdin=canary + "\n")
        yield b
    finally:
        stop.set()
        server.join(5)
        drop_roots(zh)
        shutil.rmtree(base, ignore_errors=True)


def _routes(out: str) -> tuple[int, list[str]]:
    lines = out.splitlines()
    total = next((int(ln.split()[1]) for ln in lines if ln.startswith("ROUTES ")), 0)
    return total, [ln[5:] for ln in lines if ln.startswith("LEAK ")]


def test_no_route_out_of_the_agent(box: Box, capsys: pytest.CaptureFixture[str]) -> None:
    env_id = (box.proj / ".zagi" / ".synced").read_text().split()[0]
    hostile_caller = {"API_KEY": box.canary, "AWS_SECRET_ACCESS_KEY": box.canary,
                      "ZAGI_CACHE_TOKEN": box.canary, "CACHIX_AUTH_TOKEN": box.canary,
                      "AUTH_HEADER": f"Bearer {box.canary}"}
    before = box.fingerprint()
    args = ["python3", "attack.py", box.canary[::-1], str(box.identity), str(box.zh), box.socket,
            env_id]
    ran = box.z("agent", "--", *args, extra=hostile_caller)
    total, leaks = _routes(ran.stdout)
    who = "an unprivileged user" if box.as_user else "root"
    with capsys.disabled():  # the figure belongs in CI's output
        print(f"\nzagi agent as {who}: {total} routes tried, {len(leaks)} leaks")
    assert total >= 42, ran.stdout + ran.stderr
    assert leaks == [], f"{who}: {leaks}\n{ran.stderr}"
    assert box.canary not in ran.stdout + ran.stderr
    assert box.fingerprint() == before  # nothing the user runs later was changed

    # The control: the same routes outside the sandbox do reach the secret.
    cp = subprocess.run(args, cwd=box.proj, capture_output=True, text=True, timeout=120,
                        env={**os.environ, **box.env, **hostile_caller})
    _, outside = _routes(cp.stdout)
    for expected in ("read the identity file", "a same-user unix socket outside (tmux-like)",
                     "inherited AWS_SECRET_ACCESS_KEY", "append to activate.sh",
                     "add a recipient", "install a git hook", "read ~/.ssh/id_ed25519",
                     "read ~/.aws/credentials", "read ~/.netrc"):
        assert expected in outside, cp.stdout + cp.stderr


def test_agent_cannot_type_into_the_users_terminal(box: Box) -> None:
    """TIOCSTI on the shared terminal would run commands in the user's shell after the
    agent exits; the sandbox's seccomp filter refuses it (legacy_tiocsti is on here)."""
    import pexpect

    probe = ("import fcntl, termios, sys\n"
             "try:\n    fcntl.ioctl(0, termios.TIOCSTI, b'x'); print('INJECTED')\n"
             "except OSError as e:\n    print('REFUSED', e.errno)\n")
    child = pexpect.spawn(box.argv("agent", "--", "python3", "-c", probe)[0],
                          box.argv("agent", "--", "python3", "-c", probe)[1:],
                          cwd=str(box.proj), env={**box.env, "TERM": "dumb"}, timeout=60,
                          encoding="utf-8")
    child.expect(["INJECTED", "REFUSED 1"])
    assert child.after == "REFUSED 1"
    child.expect(pexpect.EOF)
    outside = pexpect.spawn("python3", ["-c", probe], timeout=30, encoding="utf-8")
    outside.expect(["INJECTED", "REFUSED"])  # the control: the kernel allows it outside
    assert outside.after == "INJECTED" or Path("/proc/sys/dev/tty/legacy_tiocsti").read_text().strip() == "0"


def test_net_none_has_only_loopback(box: Box) -> None:
    ran = box.z("agent", "--net", "none", "--", "cat", "/proc/net/dev")
    assert [ln.split(":")[0].strip() for ln in ran.stdout.splitlines()[2:]] == ["lo"]
    host = box.z("agent", "--", "cat", "/proc/net/dev")  # the default: the host's network
    assert len(host.stdout.splitlines()) > 3


def test_pass_gives_one_variable_and_no_other(box: Box) -> None:
    ran = box.z("agent", "--pass", "AGENT_API_KEY", "--", "sh", "-c",
                'echo "[$AGENT_API_KEY][${AWS_SECRET_ACCESS_KEY-}]"',
                extra={"AGENT_API_KEY": "for-the-agent", "AWS_SECRET_ACCESS_KEY": box.canary})
    assert ran.stdout.strip() == "[for-the-agent][]"


def test_an_identity_inside_the_project_is_masked(box: Box) -> None:
    inside = box.proj / ".age-identity"
    shutil.copy(box.identity, inside)
    if box.as_user:
        uid, gid = _make_user()
        os.chown(inside, uid, gid)
    ran = box.z("agent", "--", "sh", "-c", "cat .age-identity; echo END",
                extra={"ZAGI_IDENTITY": ".age-identity"})
    assert "AGE-SECRET-KEY" not in ran.stdout and ran.stdout.strip().endswith("END")


Probe = Callable[[Box], None]
