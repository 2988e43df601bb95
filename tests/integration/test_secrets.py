"""Secrets for app processes only; agents kept away by the kernel (real namespaces, real age)."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO, require, zagi_exe
from tests.integration.conftest import STANDIN, drop_roots
from tests.integration.shells import Shell

pytestmark = pytest.mark.integration


@dataclass
class Sec:
    root: Path  # the project
    home: Path
    env: dict[str, str]
    canary: str

    def z(self, *args: str, stdin: str | None = None, check: bool = True,
          extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        cp = subprocess.run([zagi_exe(), *args], cwd=self.root, env={**self.env, **(extra or {})},
                            input=stdin, capture_output=True, text=True, timeout=300)
        self.scan()  # after every command: the plaintext is nowhere on disk
        if check:
            assert cp.returncode == 0, f"zagi {args} -> {cp.returncode}\n{cp.stdout}\n{cp.stderr}"
        return cp

    def scan(self) -> None:
        needle = self.canary.encode()
        for base in (self.home, Path(self.env["TMPDIR"]), self.root):
            for dirpath, _dirs, files in os.walk(base):
                for f in files:
                    p = Path(dirpath) / f
                    if p.is_symlink() or not p.is_file():
                        continue
                    assert needle not in p.read_bytes(), f"the secret is in plaintext in {p}"


@pytest.fixture
def sec(tmp_path: Path) -> Iterator[Sec]:
    require("age")
    require("nix-store")
    home, tmpdir, root = tmp_path / "home", tmp_path / "tmp", tmp_path / "proj"
    for d in (home, tmpdir, root / ".zagi"):
        d.mkdir(parents=True)
    (root / ".zagi" / "env.toml").write_text('[tools]\nnode = "20"\n')
    env = {**os.environ, "HOME": str(home), "TMPDIR": str(tmpdir), "ZAGI_HOME": str(home / "zh"),
           "XDG_CONFIG_HOME": str(home / ".config"), "ZAGI_NIXPKGS": str(STANDIN),
           "PATH": f"{Path(zagi_exe()).parent}:/usr/bin:/bin"}
    env.pop("ZAGI_IDENTITY", None)
    s = Sec(root, home, env, f"sk_live_{uuid.uuid4().hex}")
    s.z("sync")
    s.z("secrets", "init")
    s.z("secrets", "set", "API_KEY", stdin=s.canary + "\n")
    yield s
    drop_roots(home / "zh")


def identity(s: Sec) -> Path:
    return s.home / ".config" / "zagi" / "identity.txt"


def test_apps_get_secrets_and_nothing_leaks(sec: Sec) -> None:
    assert oct(identity(sec).stat().st_mode & 0o777) == "0o600"
    assert sec.canary not in (sec.root / ".zagi" / "secrets.enc").read_text(errors="replace")
    assert sec.z("secrets", "ls").stdout == "API_KEY\n"
    ran = sec.z("run", "--", "sh", "-c", 'echo "[$API_KEY]"; node --version')
    assert ran.stdout == f"[{sec.canary}]\nv20.12.2\n"
    no_reveal = sec.z("secrets", "get", "API_KEY", check=False)
    assert no_reveal.returncode == 2 and sec.canary not in no_reveal.stdout + no_reveal.stderr
    piped = sec.z("secrets", "get", "API_KEY", "--reveal", check=False)  # stdout is a pipe
    assert piped.returncode == 2 and "pipe" in piped.stderr and sec.canary not in piped.stdout
    exported = sec.z("env", "--export", "json").stdout
    assert "API_KEY" not in exported
    bad = sec.z("secrets", "set", "not-a-name", stdin="x\n", check=False)
    assert bad.returncode == 2 and sec.canary not in bad.stderr


def test_the_shell_hook_never_exports_secrets(sec: Sec) -> None:
    sec.z("allow")
    sh = Shell("bash", sec.env, str(sec.root.parent))
    try:
        sh.run('eval "$(zagi hook bash)"')
        sh.run(f"cd {sec.root}")
        assert sh.run("command -v node").startswith("/nix/store/")  # the env is active...
        assert sh.run('echo "[${API_KEY-}]"') == "[]"                 # ...its secrets are not
        assert sec.canary not in sh.run("env")
    finally:
        sh.close()


def test_agent_cannot_reach_secrets(sec: Sec) -> None:
    app = subprocess.Popen([zagi_exe(), "run", "--", "sleep", "60"], cwd=sec.root, env=sec.env)
    try:
        for _ in range(100):
            environ = Path(f"/proc/{app.pid}/environ").read_bytes()
            if sec.canary.encode() in environ:
                break
            subprocess.run(["sleep", "0.05"], check=True)
        assert sec.canary.encode() in environ  # the control: outside, the app has the secret
        probe = f"""
            echo "pid=$$"
            cat {identity(sec)} >/dev/null 2>&1 && echo IDENTITY-READABLE
            ls -A {identity(sec).parent}
            zagi secrets ls >/dev/null 2>&1 && echo DECRYPTED
            age -d -i {identity(sec)} .zagi/secrets.enc >/dev/null 2>&1 && echo AGE-DECRYPTED
            cat /proc/{app.pid}/environ >/dev/null 2>&1 && echo APP-ENVIRON-READABLE
            env | grep -c {sec.canary} || true
            node --version
            zagi run -- sh -c 'echo "inner=[${{API_KEY-}}]"'
        """
        ran = sec.z("agent", "--", "sh", "-c", probe, extra={"API_KEY": sec.canary})
        out = ran.stdout.splitlines()
        assert out[0] == "pid=2"  # its own PID namespace (PID 1 is zagi's reaper)
        for leak in ("IDENTITY-READABLE", "DECRYPTED", "AGE-DECRYPTED", "APP-ENVIRON-READABLE"):
            assert leak not in out, ran.stdout
        assert "0" in out and "v20.12.2" in out and "inner=[]" in out
        assert "running without secrets" in ran.stderr
        assert sec.canary not in ran.stdout + ran.stderr
        code = sec.z("agent", "--", "sh", "-c", "exit 3", check=False).returncode
        assert code == 3  # the agent's exit status is passed through
    finally:
        app.kill()
        app.wait()


def _user_namespaces_work(runuser: str, user: str) -> bool:
    probe = subprocess.run([runuser, "-u", user, "--", "unshare", "--user", "--map-current-user",
                            "--mount", "--pid", "--fork", "true"], capture_output=True)
    return probe.returncode == 0


def test_agent_as_an_unprivileged_user(sec: Sec) -> None:
    """The same isolation for an ordinary user, through a user namespace."""
    import site
    import sys
    import tempfile

    runuser = require("runuser")
    user = "zagi-agent-test"
    if subprocess.run(["id", user], capture_output=True).returncode != 0:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/bin/sh", user],
                       check=True)
    uid, gid = pwd.getpwnam(user).pw_uid, pwd.getpwnam(user).pw_gid
    base = Path(tempfile.mkdtemp(prefix="zagi-agent-user-", dir="/tmp"))
    try:
        base.chmod(0o755)  # pytest's own temp root is private to root
        proj, home, zh = base / "proj", base / "home", base / "zh"
        (proj / ".zagi").mkdir(parents=True)
        (proj / ".zagi" / "env.toml").write_text('[tools]\nnode = "20"\n')
        (home / ".config" / "zagi").mkdir(parents=True)
        (home / ".config" / "zagi" / "identity.txt").write_text("AGE-SECRET-KEY-1NOTREAL\n")
        env = {**sec.env, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
               "ZAGI_HOME": str(zh), "TMPDIR": "/tmp", "SECRET_FROM_PARENT": sec.canary}
        subprocess.run([zagi_exe(), "sync"], cwd=proj, env=env, check=True, capture_output=True)
        for p in [proj, *proj.rglob("*"), home, *home.rglob("*")]:
            os.lchown(p, uid, gid)
        # This machine's venv interpreter lives under /root (mode 700), which another user
        # cannot execute; the system interpreter of the same version runs the same code.
        py = Path(f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}")
        py = py if py.exists() else Path(sys.executable)
        env["PYTHONPATH"] = ":".join([str(REPO), *(d for d in site.getsitepackages())])
        probe = (f"echo pid=$$; ls -A {home}/.config/zagi; echo \"[$SECRET_FROM_PARENT]\"; "
                 "node --version")
        main = "import sys; sys.argv[0] = 'zagi'; from zagi.__main__ import main; main()"
        cp = subprocess.run([runuser, "-u", user, "--", str(py), "-c", main, "agent", "--", "sh",
                             "-c", probe], cwd=proj, env=env, capture_output=True, text=True,
                            timeout=120)
        if _user_namespaces_work(runuser, user):
            assert cp.returncode == 0, cp.stderr
            # Own PID namespace; the identity directory is an empty mask; tools still run; the
            # caller's other variables stay outside (an allowlist, not a blocklist).
            assert cp.stdout.splitlines() == ["pid=2", "[]", "v20.12.2"], cp.stdout
        else:  # the kernel refuses: zagi must refuse too, never run without isolation
            assert cp.returncode != 0
            assert "refuses to start an agent without isolation" in cp.stderr
    finally:
        drop_roots(base / "zh")
        shutil.rmtree(base, ignore_errors=True)


def test_recipients_age_interop_and_bad_files(sec: Sec, tmp_path: Path) -> None:
    key2 = tmp_path / "key2.txt"
    subprocess.run(["age-keygen", "-o", str(key2)], check=True, capture_output=True)
    pub2 = next(ln.split(": ")[1] for ln in key2.read_text().splitlines() if "public key" in ln)
    enc = sec.root / ".zagi" / "secrets.enc"
    # zagi -> age CLI: a file zagi wrote decrypts with age (straight to a pipe, not to disk)
    out = subprocess.run(["age", "-d", "-i", str(identity(sec)), str(enc)], capture_output=True,
                         text=True, check=True).stdout
    assert f'API_KEY="{sec.canary}"' in out
    sec.z("secrets", "recipients", "add", pub2)
    assert subprocess.run(["age", "-d", "-i", str(key2), str(enc)], capture_output=True).returncode == 0
    sec.z("secrets", "recipients", "rm", pub2)
    gone = subprocess.run(["age", "-d", "-i", str(key2), str(enc)], capture_output=True, text=True)
    assert gone.returncode != 0  # re-encrypted: the removed key can no longer decrypt
    assert sec.z("secrets", "ls").stdout == "API_KEY\n"  # ours still can
    # A wrong identity is a clear error naming the key, and nothing is written.
    before = enc.read_bytes()
    wrong = sec.z("secrets", "set", "X", stdin="v\n", check=False, extra={"ZAGI_IDENTITY": str(key2)})
    assert wrong.returncode == 1 and "not one of its recipients" in wrong.stderr
    assert enc.read_bytes() == before
    for bad, words in ((b"garbage" * 10, "not an age-encrypted file"),
                       (before[: len(before) // 2], "truncated or corrupted")):
        enc.write_bytes(bad)
        ran = sec.z("secrets", "ls", check=False)
        assert ran.returncode == 2 and words in ran.stderr and "Traceback" not in ran.stderr
        assert sec.z("secrets", "set", "Y", stdin="v\n", check=False).returncode == 2
        assert enc.read_bytes() == bad  # nothing written over it
    # age CLI -> zagi: a file written by age, in plain dotenv style, works with zagi run.
    pub = next(ln.split(": ")[1] for ln in identity(sec).read_text().splitlines()
               if "public key" in ln)
    subprocess.run(["age", "-r", pub, "-o", str(enc)], input=f"# by hand\nDB_PASS={sec.canary}\n"
                   "export TOKEN='two words'\n", text=True, check=True)
    assert sec.z("secrets", "ls").stdout == "DB_PASS\nTOKEN\n"
    ran = sec.z("run", "--", "sh", "-c", 'echo "$DB_PASS|$TOKEN"')
    assert ran.stdout == f"{sec.canary}|two words\n"


def test_check_refuses_env_files_and_secret_values(sec: Sec) -> None:
    git: Callable[..., subprocess.CompletedProcess[str]] = lambda *a: subprocess.run(  # noqa: E731
        ["git", "-C", str(sec.root), *a], capture_output=True, text=True,
        env={**sec.env, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
             "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"})
    git("init", "-q")
    planted = f"leak-me-{uuid.uuid4().hex}"  # its own secret: the canary never touches disk
    sec.z("secrets", "set", "DEPLOY_TOKEN", stdin=planted + "\n")
    (sec.root / ".env.example").write_text("API_KEY=\n")
    (sec.root / "app.py").write_text("print('ok')\n")
    git("add", ".env.example", "app.py", ".zagi/env.toml", ".zagi/recipients", ".zagi/secrets.enc")
    assert sec.z("secrets", "check").returncode == 0
    (sec.root / ".env").write_text("X=1\n")
    (sec.root / "config.txt").write_text(f"token = {planted}\n")
    git("add", "-f", ".env", "config.txt")
    ran = sec.z("secrets", "check", check=False)
    assert ran.returncode == 1
    assert ".env: an .env file must not be committed" in ran.stderr
    assert "config.txt: contains the value of secret DEPLOY_TOKEN" in ran.stderr
    assert planted not in ran.stderr + ran.stdout and sec.canary not in ran.stderr
    sec.z("secrets", "check", "--install-hook")
    assert git("commit", "-qm", "leak").returncode != 0  # the hook stops the commit
    (sec.root / "config.txt").unlink()
    (sec.root / ".env").unlink()


def test_a_recipient_added_behind_your_back_is_never_encrypted_to(sec: Sec, tmp_path: Path) -> None:
    """An agent (or a commit) appends its key to .zagi/recipients: the next `secrets set`
    must not re-encrypt every secret to it. zagi shows the key and asks for confirmation."""
    intruder = tmp_path / "intruder.txt"
    subprocess.run(["age-keygen", "-o", str(intruder)], check=True, capture_output=True)
    pub = next(ln.split(": ")[1] for ln in intruder.read_text().splitlines() if "public key" in ln)
    enc = sec.root / ".zagi" / "secrets.enc"
    with (sec.root / ".zagi" / "recipients").open("a") as fh:
        fh.write(pub + "\n")
    before = enc.read_bytes()
    for args in (["secrets", "set", "NEW", "-"], ["secrets", "rm", "API_KEY"]):
        ran = sec.z(*[a for a in args if a != "-"], stdin="v\n", check=False)
        assert ran.returncode == 1 and pub in ran.stderr and "not confirmed" in ran.stderr
        assert enc.read_bytes() == before  # nothing re-encrypted
    listed = json.loads(sec.z("secrets", "recipients", "ls", "--json").stdout)
    assert listed["unconfirmed"] == [pub]
    assert subprocess.run(["age", "-d", "-i", str(intruder), str(enc)],
                          capture_output=True).returncode != 0
    # The user checks whose key it is and confirms it: from then on it is a recipient.
    sec.z("secrets", "recipients", "confirm", pub)
    sec.z("secrets", "set", "NEW", stdin="v\n")
    assert subprocess.run(["age", "-d", "-i", str(intruder), str(enc)],
                          capture_output=True).returncode == 0
