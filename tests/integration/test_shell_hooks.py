"""The shell hooks in real interactive bash, zsh and fish (and direnv), as users meet them."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require, run_zagi, zagi_exe
from tests.integration.conftest import STANDIN, drop_roots
from tests.integration.shells import Shell

pytestmark = pytest.mark.integration
SHELLS = ["bash", "zsh", "fish"]
VOLATILE = ("OLDPWD=", "_=", "PWD=")  # set by cd / by the shell for each command


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """Projects shared by the tests: synced and allowed unless their name says otherwise."""
    for prog in ("bash", "zsh", "fish", "direnv", "strace", "nix-store"):
        require(prog)
    base = tmp_path_factory.mktemp("hooks")
    env = {"ZAGI_HOME": str(base / "home"), "ZAGI_NIXPKGS": str(STANDIN)}
    specs = {
        "a": '[tools]\nnode = "20"\n[env]\nAPP_ENV = "dev"\nGREETING = "it\'s a \\"test\\""\n',
        "a/nested": '[tools]\nnode = "18"\n',
        "b": '[tools]\nnode = "22"\n',
        "untrusted": '[tools]\nnode = "22"\n',
        "unsynced": '[tools]\nnode = "20"\n',
        "svc": '[tools]\nnode = "20"\n[services]\nredis = { version = "7", port = 26399 }\n',
    }
    for name, spec in specs.items():
        (base / name / ".zagi").mkdir(parents=True)
        (base / name / ".zagi" / "env.toml").write_text(spec)
    (base / "a" / "sub").mkdir()
    (base / "plain").mkdir()
    for name in ("a", "a/nested", "b", "untrusted", "svc"):
        assert run_zagi("sync", cwd=base / name, env=env, timeout=300).code == 0
    for name in ("a", "a/nested", "b", "svc"):
        assert run_zagi("allow", cwd=base / name, env=env).code == 0
    assert run_zagi("lock", cwd=base / "unsynced", env=env, timeout=300).code == 0
    yield {"base": base, "home": base / "home"}
    drop_roots(base / "home")


def _env(world: dict[str, Path]) -> dict[str, str]:
    path = f"{Path(zagi_exe()).parent}:/usr/local/bin:/usr/bin:/bin"
    return {"ZAGI_HOME": str(world["home"]), "ZAGI_NIXPKGS": str(STANDIN), "PATH": path,
            "HOME": str(world["base"]), "MANPATH": "/usr/share/man"}


@pytest.fixture
def shell(request: pytest.FixtureRequest, world: dict[str, Path]) -> Iterator[Shell]:
    sh = Shell(request.param, _env(world), str(world["base"] / "plain"))
    hook = {"fish": "zagi hook fish | source"}.get(sh.kind, f'eval "$(zagi hook {sh.kind})"')
    assert sh.run(hook) == ""
    yield sh
    sh.close()


def env_dump(sh: Shell) -> list[str]:
    out = sh.run("env | sort")
    return [line for line in out.splitlines() if not line.startswith(VOLATILE)]


def node(sh: Shell) -> str:
    """The version of the `node` a user would run — only if it comes from a zagi env (this
    machine has its own node in /usr/bin, which must not count)."""
    where = sh.run("command -v node")
    return sh.run("node --version") if where.startswith("/nix/store/") else "NO-NODE"


@pytest.mark.parametrize("shell", SHELLS, indirect=True)
def test_enter_leave_nested_switch_restore(shell: Shell, world: dict[str, Path]) -> None:
    base = world["base"]
    before = env_dump(shell)
    shell.run(f"cd {base}/a")
    assert node(shell) == "v20.12.2"
    assert shell.run("echo $APP_ENV") == "dev"
    assert shell.run("echo $GREETING") == 'it\'s a "test"'
    shell.run("cd sub")
    assert node(shell) == "v20.12.2"  # a subdirectory of the project keeps its env
    shell.run(f"cd {base}/a/nested")
    assert node(shell) == "v18.19.1"  # the nested project wins
    assert shell.run("echo \"[$APP_ENV]\"") == "[]"
    shell.run(f"cd {base}/b")
    assert node(shell) == "v22.2.0"
    shell.run(f"cd {base}/plain")
    assert env_dump(shell) == before  # the shell is exactly as it was
    assert shell.run("echo \"[$MANPATH]\"") == "[/usr/share/man]"


@pytest.mark.parametrize("shell", SHELLS, indirect=True)
def test_a_projects_service_variables_come_and_go_with_it(shell: Shell,
                                                          world: dict[str, Path]) -> None:
    base = world["base"]
    before = env_dump(shell)
    shell.run(f"cd {base}/svc")
    assert shell.run("echo $REDIS_URL") == "redis://127.0.0.1:26399/0"
    assert node(shell) == "v20.12.2"
    shell.run(f"cd {base}/a")  # same tools, another project: its own variables only
    assert shell.run('echo "[$REDIS_URL]"') == "[]"
    shell.run(f"cd {base}/svc")
    shell.run(f"cd {base}/plain")
    assert env_dump(shell) == before


@pytest.mark.parametrize("shell", SHELLS, indirect=True)
def test_untrusted_and_unsynced_projects_do_not_activate(shell: Shell,
                                                         world: dict[str, Path]) -> None:
    base = world["base"]
    before = env_dump(shell)
    said = shell.run(f"cd {base}/untrusted")
    assert "not allowed; run `zagi allow`" in said
    assert node(shell) == "NO-NODE"
    said = shell.run(f"cd {base}/unsynced")
    assert "run `zagi sync`" in said
    assert node(shell) == "NO-NODE"
    assert shell.run("true") == ""  # said once, not at every prompt
    # A project is .zagi/env.toml, for the hooks as for every command: one never locked
    # is found too, and told what to do.
    fresh = base / "never-locked"
    (fresh / ".zagi").mkdir(parents=True, exist_ok=True)
    (fresh / ".zagi" / "env.toml").write_text('[tools]\nnode = "20"\n')
    assert "run `zagi sync`" in shell.run(f"cd {fresh}")
    assert node(shell) == "NO-NODE"
    shell.run(f"cd {base}/plain")
    assert env_dump(shell) == before


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"})


@pytest.fixture
def repo(world: dict[str, Path], tmp_path: Path) -> Path:
    """A git repo whose two commits lock node 20 and node 22; the first is synced."""
    env = _env(world)
    r = tmp_path / "repo"
    (r / ".zagi").mkdir(parents=True)
    (r / ".zagi" / "env.toml").write_text('[tools]\nnode = "20"\n')
    _git(r, "init", "-q", "-b", "main")
    assert run_zagi("sync", cwd=r, env=env, timeout=300).code == 0
    assert run_zagi("allow", cwd=r, env=env).code == 0
    (r / ".gitignore").write_text(".zagi/.synced\n")
    _git(r, "add", "-A")
    _git(r, "commit", "-qm", "node 20")
    assert run_zagi("add", "node@22", cwd=r, env=env, timeout=300).code == 0  # relocks only
    assert run_zagi("allow", cwd=r, env=env).code == 0
    _git(r, "commit", "-qam", "node 22")
    _git(r, "checkout", "-q", "HEAD~1")
    return r


@pytest.mark.parametrize("shell", SHELLS, indirect=True)
def test_checkout_of_another_lock_keeps_the_last_env_until_synced(
        shell: Shell, repo: Path) -> None:
    shell.run(f"cd {repo}")
    assert node(shell) == "v20.12.2"
    if shell.kind == "fish":
        time.sleep(1.1)  # fish compares mtimes in whole seconds (documented in the hook)
    said = shell.run("git checkout -q main")  # the next prompt says it, once
    assert "env.lock changed; run `zagi sync`" in said
    assert shell.run("true") == ""
    assert node(shell) == "v20.12.2"  # never blocks: the last good env stays
    shell.run("zagi sync > /dev/null")
    assert node(shell) == "v22.2.0"   # picked up on the next prompt


def test_background_sync_is_picked_up_on_a_later_prompt(world: dict[str, Path],
                                                        repo: Path) -> None:
    sh = Shell("bash", {**_env(world), "ZAGI_AUTO_SYNC": "1"}, str(repo))
    try:
        sh.run('eval "$(zagi hook bash)"')
        assert node(sh) == "v20.12.2"
        said = sh.run("git checkout -q main")
        assert "syncing in the background" in said and "run `zagi sync`" not in said
        for _ in range(100):
            if node(sh) == "v22.2.0":
                break
            time.sleep(0.2)
        assert node(sh) == "v22.2.0"
    finally:
        sh.close()


def test_auto_sync_never_touches_a_project_nobody_allowed(world: dict[str, Path],
                                                          tmp_path: Path) -> None:
    """ZAGI_AUTO_SYNC syncs allowed projects only: entering a freshly cloned repo must not
    evaluate its lock (that ran the repo's package set before any `zagi allow`)."""
    cloned = tmp_path / "cloned"
    (cloned / ".zagi").mkdir(parents=True)
    (cloned / ".zagi" / "env.toml").write_text('[tools]\nnode = "20"\n')
    assert run_zagi("lock", cwd=cloned, env=_env(world), timeout=300).code == 0
    sh = Shell("bash", {**_env(world), "ZAGI_AUTO_SYNC": "1"}, str(tmp_path))
    try:
        sh.run('eval "$(zagi hook bash)"')
        assert "run `zagi sync`" in sh.run(f"cd {cloned}")
        time.sleep(3)
        sh.run("true")
        assert not (cloned / ".zagi" / ".synced").exists(), "it synced an untrusted project"
        assert node(sh) == "NO-NODE"
    finally:
        sh.close()


@pytest.mark.parametrize("shell", ["bash", "zsh"], indirect=True)
def test_a_prompt_starts_no_process_when_nothing_changed(shell: Shell, world: dict[str, Path],
                                                         tmp_path: Path) -> None:
    shell.run(f"cd {world['base']}/a/sub")
    assert node(shell) == "v20.12.2"
    log = tmp_path / "strace.txt"
    tracer = subprocess.Popen(["strace", "-f", "-qq", "-e", "trace=process", "-o", str(log),
                               "-p", str(shell.pid)])
    time.sleep(0.5)
    for _ in range(5):
        assert shell.run("") == ""
    tracer.terminate()
    tracer.wait(timeout=10)
    events = [ln for ln in log.read_text().splitlines()
              if any(c in ln for c in ("clone", "fork", "execve"))]
    assert events == [], events
    # ...and the same tracer does see a process when one is started, so the check can fail.
    tracer = subprocess.Popen(["strace", "-f", "-qq", "-e", "trace=process", "-o", str(log),
                               "-p", str(shell.pid)])
    time.sleep(0.5)
    shell.run("/bin/true")
    tracer.terminate()
    tracer.wait(timeout=10)
    assert "execve" in log.read_text()


def test_prompt_vars_are_opt_in(world: dict[str, Path]) -> None:
    sh = Shell("bash", {**_env(world), "ZAGI_PROMPT_VARS": "1"}, str(world["base"] / "a"))
    try:
        sh.run('eval "$(zagi hook bash)"')
        assert sh.run("echo $ZAGI_PROJECT:${#ZAGI_ENV_ID}") == "a:12"
        sh.run("cd /")
        assert sh.run("echo \"[$ZAGI_PROJECT]\"") == "[]"
    finally:
        sh.close()


def test_deny_revokes(world: dict[str, Path], tmp_path: Path) -> None:
    env = _env(world)
    p = tmp_path / "p"
    (p / ".zagi").mkdir(parents=True)
    (p / ".zagi" / "env.toml").write_text('[tools]\nnode = "22"\n')
    assert run_zagi("sync", cwd=p, env=env, timeout=300).code == 0
    assert run_zagi("allow", cwd=p, env=env).code == 0
    sh = Shell("bash", env, str(tmp_path))
    try:
        sh.run('eval "$(zagi hook bash)"')
        sh.run(f"cd {p}")
        assert node(sh) == "v22.2.0"
        said = sh.run("zagi deny")  # applied at the next prompt, in place
        assert "denied" in said and "not allowed" in said and node(sh) == "NO-NODE"
        sh.run("cd ..")
        sh.run(f"cd {p}")
        assert node(sh) == "NO-NODE"
    finally:
        sh.close()


def test_direnv_use_zagi(world: dict[str, Path], tmp_path: Path) -> None:
    env = {**_env(world), "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / ".config"),
           "XDG_DATA_HOME": str(tmp_path / ".local" / "share")}
    full = {**os.environ, **env}
    first = subprocess.run([zagi_exe(), "hook", "direnv", "--install"], env=full, capture_output=True,
                           text=True, check=True)
    assert "direnvrc" in first.stderr
    again = subprocess.run([zagi_exe(), "hook", "direnv", "--install"], env=full, capture_output=True,
                           text=True, check=True)
    assert "already in" in again.stderr  # idempotent
    proj = world["base"] / "a"
    (proj / ".envrc").write_text("use zagi\n")
    subprocess.run(["direnv", "allow", str(proj)], env=full, check=True, capture_output=True)
    ran = subprocess.run(["direnv", "exec", str(proj), "node", "--version"], env=full,
                         capture_output=True, text=True, check=True)
    assert ran.stdout.strip() == "v20.12.2"
    svc = world["base"] / "svc"
    (svc / ".envrc").write_text("use zagi\n")
    subprocess.run(["direnv", "allow", str(svc)], env=full, check=True, capture_output=True)
    url = subprocess.run(["direnv", "exec", str(svc), "sh", "-c", "echo $REDIS_URL"], env=full,
                         capture_output=True, text=True, check=True)
    assert url.stdout.strip() == "redis://127.0.0.1:26399/0"  # the project's services too
    (svc / ".envrc").unlink()
    sh = Shell("bash", env, str(tmp_path))
    try:
        sh.run('eval "$(direnv hook bash)"')
        before = env_dump(sh)
        sh.run(f"cd {proj}")
        assert node(sh) == "v20.12.2" and sh.run("echo $APP_ENV") == "dev"
        sh.run(f"cd {tmp_path}")
        after = [ln for ln in env_dump(sh) if not ln.startswith("DIRENV_")]
        assert after == [ln for ln in before if not ln.startswith("DIRENV_")]
    finally:
        sh.close()
        (proj / ".envrc").unlink()


def test_run_env_and_shell_without_any_hook(world: dict[str, Path]) -> None:
    env = {**os.environ, **_env(world)}
    a = world["base"] / "a"
    ran = subprocess.run([zagi_exe(), "run", "--", "node", "--version"], cwd=a, env=env,
                         capture_output=True, text=True)
    assert ran.stdout.strip() == "v20.12.2"
    assert subprocess.run([zagi_exe(), "run", "--", "sh", "-c", "exit 7"], cwd=a, env=env).returncode == 7
    killed = subprocess.run([zagi_exe(), "run", "--", "sh", "-c", "kill -TERM $$"], cwd=a, env=env)
    assert killed.returncode == -15  # the signal is the command's own (zagi exec'd it)
    piped = subprocess.run([zagi_exe(), "run", "--", "sh", "-c", 'read x; echo "got $x $APP_ENV"'],
                           cwd=a, env=env, input="hi\n", capture_output=True, text=True)
    assert piped.stdout == "got hi dev\n"
    missing = subprocess.run([zagi_exe(), "run", "--", "no-such-tool-zagi"], cwd=a, env=env,
                             capture_output=True, text=True)
    assert missing.returncode == 127 and "not found" in missing.stderr
    as_json = subprocess.run([zagi_exe(), "run", "--json", "--", "no-such-tool-zagi"], cwd=a,
                             env=env, capture_output=True, text=True)
    assert as_json.returncode == 127
    err = json.loads(as_json.stdout)
    assert err["kind"] == "CommandNotFound" and "no-such-tool-zagi" in err["error"]
    exported = json.loads(subprocess.run([zagi_exe(), "env", "--export", "json"], cwd=a, env=env,
                                         capture_output=True, text=True, check=True).stdout)
    assert exported["set"]["APP_ENV"] == "dev" and exported["prepend"]["PATH"][0].endswith("/bin")
    for kind in ("bash", "fish"):
        script = subprocess.run([zagi_exe(), "env", "--export", kind], cwd=a, env=env,
                                capture_output=True, text=True, check=True).stdout
        cmd = {"bash": f"{script}\nnode --version", "fish": f"{script}\nnode --version"}[kind]
        out = subprocess.run([kind, "-c", cmd], env={**env, "PATH": "/usr/bin:/bin"},
                             capture_output=True, text=True)
        assert out.stdout.strip() == "v20.12.2", (kind, out.stderr)
    sh = Shell("bash", {**_env(world), "SHELL": "/bin/bash"}, str(a))
    try:
        sh.p.sendline(f"{zagi_exe()} shell")
        sh.p.sendline("PS1='INNER> '; node --version; echo ZAGI_SHELL=$ZAGI_SHELL; exit")
        sh.p.expect("v20.12.2")
        sh.p.expect("ZAGI_SHELL=1")
    finally:
        sh.close()


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"], indirect=True)
def test_your_own_edits_keep_trust_and_allow_applies_at_the_next_prompt(
        shell: Shell, world: dict[str, Path], tmp_path: Path) -> None:
    """After `zagi add` + `zagi sync` in an allowed project the next prompt has the new
    tool (no new `zagi allow`); `zagi allow` in a project takes effect on the next prompt,
    without leaving and re-entering."""
    p = tmp_path / "mine"
    (p / ".zagi").mkdir(parents=True)
    (p / ".zagi" / "env.toml").write_text('[tools]\nnode = "20"\n')
    env = _env(world)
    assert run_zagi("sync", cwd=p, env=env, timeout=300).code == 0
    assert "not allowed" in shell.run(f"cd {p}")
    if shell.kind == "fish":
        time.sleep(1.1)  # fish compares mtimes in whole seconds (documented in the hook)
    shell.run("zagi allow > /dev/null")
    assert node(shell) == "v20.12.2"  # the next prompt, same directory
    if shell.kind == "fish":
        time.sleep(1.1)
    shell.run("zagi add go@1.22 > /dev/null 2>&1; zagi sync > /dev/null 2>&1")
    said = shell.run("go version")
    assert "go1.22" in said and "not allowed" not in said, said
    assert node(shell) == "v20.12.2"
