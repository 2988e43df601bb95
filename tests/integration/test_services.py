"""Services from the env, as a user runs them: real postgres, redis, mariadb and memcached
(Debian's builds in the stand-in set), supervised per project, reached through the
variables the env exports. These tests run as root, so they also show the servers
dropping to the service user, as they do in a root container."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO as REPO_
from tests.conftest import Ran, run_zagi, zagi_exe
from tests.integration.conftest import make_project

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PG15 = 'schema = 1\n[project]\nname = "shop"\n[services]\npostgres = "15"\nredis = "7"\n'


@pytest.fixture
def svc(zenv: dict[str, str], tmp_path: Path) -> Iterator[Callable[..., Ran]]:
    """zagi for services; every project it touched is brought down at the end."""
    touched: set[Path] = set()

    def call(*args: str, cwd: Path, check: bool = True, timeout: float = 300) -> Ran:
        touched.add(cwd)
        ran = run_zagi(*args, cwd=cwd, env=zenv, timeout=timeout)
        if check:
            assert ran.code == 0, f"zagi {' '.join(args)} -> {ran.code}\n{ran.out}\n{ran.err}"
        return ran

    yield call
    for p in touched:
        run_zagi("down", cwd=p, env=zenv, timeout=120)


def sh(svc: Callable[..., Ran], project: Path, script: str) -> str:
    """A shell command in the env (`zagi run`), as an app or a user would connect."""
    return svc("run", "--", "sh", "-c", script, cwd=project).out.strip()


def state(svc: Callable[..., Ran], project: Path) -> dict[str, dict[str, object]]:
    return {r["name"]: r for r in svc("services", "--json", cwd=project).json()["services"]}


def test_postgres_and_redis_keep_their_data_across_down_and_up(svc: Callable[..., Ran],
                                                              tmp_path: Path) -> None:
    p = make_project(tmp_path / "shop", PG15)
    up = svc("up", "-d", cwd=p)
    assert "postgres ready" in up.err and "redis ready" in up.err
    sh(svc, p, 'psql "$DATABASE_URL" -qc "create table orders (n int); insert into orders values (42)"'
               ' && redis-cli -u "$REDIS_URL" set greeting hello')
    rows = state(svc, p)
    assert rows["postgres"]["state"] == rows["redis"]["state"] == "running"
    pg_pid = int(str(rows["postgres"]["pid"]))
    # As root, the servers run as the unprivileged service user (postgres refuses root).
    uid = next(int(ln.split()[1]) for ln in Path(f"/proc/{pg_pid}/status").read_text().splitlines()
               if ln.startswith("Uid:"))
    assert uid != 0
    assert os.readlink(f"/proc/{pg_pid}/exe").startswith("/nix/store/")  # from the env
    assert Path(str(rows["postgres"]["data_dir"])).name == "postgres-15"
    # Bound to 127.0.0.1 only.
    assert f"127.0.0.1:{rows['postgres']['port']}" in _listening()
    assert f"0.0.0.0:{rows['postgres']['port']}" not in _listening()

    assert "stopped: postgres, redis" in svc("down", cwd=p).out
    assert not Path(f"/proc/{pg_pid}").exists()
    assert all(r["state"] == "stopped" for r in state(svc, p).values())
    svc("up", "-d", cwd=p)
    assert sh(svc, p, 'psql "$DATABASE_URL" -tAc "select n from orders"') == "42"
    assert sh(svc, p, 'redis-cli -u "$REDIS_URL" get greeting') == "hello"
    env = sh(svc, p, "env")
    for var in ("PGHOST", "PGPORT", "PGUSER=shop", "PGDATABASE=shop", "POSTGRES_URL",
                "REDIS_URL=redis://127.0.0.1:", "DATABASE_URL=postgresql://shop@127.0.0.1:"):
        assert var in env


def _listening() -> str:
    """Listening TCP sockets as "addr:port" strings (from /proc/net/tcp)."""
    out = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, st = line.split()[1], line.split()[3]
        if st == "0A":
            ip, port = local.split(":")
            addr = socket.inet_ntoa(bytes.fromhex(ip)[::-1])
            out.append(f"{addr}:{int(port, 16)}")
    return " ".join(out)


def test_two_projects_run_their_own_postgres_at_once(svc: Callable[..., Ran],
                                                    tmp_path: Path) -> None:
    a = make_project(tmp_path / "alpha", 'schema = 1\n[services]\npostgres = "15"\n')
    b = make_project(tmp_path / "beta", 'schema = 1\n[services]\npostgres = "15"\n')
    svc("up", "-d", cwd=a)
    svc("up", "-d", cwd=b)
    pa, pb = state(svc, a)["postgres"]["port"], state(svc, b)["postgres"]["port"]
    assert pa != pb
    assert sh(svc, a, 'psql "$DATABASE_URL" -tAc "select current_database()"') == "alpha"
    assert sh(svc, b, 'psql "$DATABASE_URL" -tAc "select current_database()"') == "beta"
    svc("down", cwd=a)
    assert state(svc, b)["postgres"]["state"] == "running"  # the other project's is untouched


def test_kill_9_of_the_supervisor_is_recovered_by_the_next_up(svc: Callable[..., Ran],
                                                             tmp_path: Path) -> None:
    p = make_project(tmp_path / "shop", PG15)
    svc("up", "-d", cwd=p)
    sh(svc, p, 'psql "$DATABASE_URL" -qc "create table t (x int); insert into t values (1)"')
    from zagi.core.layout import project_key

    pid_file = Path(os.environ["ZAGI_SERVICES_HOME"]) / project_key(p) / "supervisord.pid"
    old_pg = int(str(state(svc, p)["postgres"]["pid"]))
    os.kill(int(pid_file.read_text()), signal.SIGKILL)
    time.sleep(0.2)
    assert _alive(old_pg)  # the orphan still holds the data dir
    again = svc("up", "-d", cwd=p)
    assert "stopped a server a previous supervisor left running" in again.err
    assert not _alive(old_pg)
    assert sh(svc, p, 'psql "$DATABASE_URL" -tAc "select x from t"') == "1"
    assert len(_postmasters(p)) == 1


def _alive(pid: int) -> bool:
    """Running (a zombie has exited: this machine's init may be slow to reap orphans)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _postmasters(project: Path) -> list[int]:
    """postgres main processes whose data dir belongs to this project's state."""
    from zagi.core.layout import project_key

    out = []
    for d in Path("/proc").iterdir():
        try:
            cmd = (d / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if cmd[0].endswith(b"/bin/postgres") and b"-D" in cmd and _alive(int(d.name)) \
                and str(project_key(project)).encode() in cmd[cmd.index(b"-D") + 1]:
            out.append(int(d.name))
    return out


def test_a_crashed_server_is_restarted(svc: Callable[..., Ran], tmp_path: Path) -> None:
    p = make_project(tmp_path / "cache", 'schema = 1\n[services]\nredis = "7"\n')
    svc("up", "-d", cwd=p)
    sh(svc, p, 'redis-cli -u "$REDIS_URL" set k v >/dev/null')
    old = int(str(state(svc, p)["redis"]["pid"]))
    time.sleep(1.2)  # past startsecs: a crash of a running server, not a failed start
    os.kill(old, signal.SIGKILL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        row = state(svc, p)["redis"]
        if row["state"] == "running" and row["pid"] not in (None, old):
            break
        time.sleep(0.2)
    else:
        pytest.fail(f"redis was not restarted: {row}")
    assert sh(svc, p, 'redis-cli -u "$REDIS_URL" ping') == "PONG"


def test_switching_postgres_versions_keeps_data_per_major(svc: Callable[..., Ran],
                                                         tmp_path: Path) -> None:
    p = make_project(tmp_path / "shop", 'schema = 1\n[services]\npostgres = "15"\n')
    svc("up", "-d", cwd=p)
    sh(svc, p, 'psql "$DATABASE_URL" -qc "create table kept (x int); insert into kept values (15)"')
    toml = p / ".zagi" / "env.toml"
    toml.write_text(toml.read_text().replace('"15"', '"13"'))
    switched = svc("up", "-d", cwd=p)  # the running 15 stops, 13 starts on its own data
    assert "restarting postgres" in switched.err
    assert "data of postgres-15 kept" in switched.err
    assert "PostgreSQL 13." in sh(svc, p, 'psql "$DATABASE_URL" -tAc "select version()"')
    assert "does not exist" in svc("run", "--", "psql", "-tAc", "select x from kept", cwd=p,
                                   check=False).err
    toml.write_text(toml.read_text().replace('"13"', '"15"'))
    svc("up", "-d", cwd=p)
    assert sh(svc, p, 'psql "$DATABASE_URL" -tAc "select x from kept"') == "15"


def test_bad_inputs_are_refused_clearly(svc: Callable[..., Ran], tmp_path: Path) -> None:
    p = make_project(tmp_path / "shop", 'schema = 1\n[services]\npostgres = "15"\nredis = "7"\n')
    typo = svc("up", "postgre", cwd=p, check=False)
    assert typo.code == 2 and 'did you mean "postgres"' in typo.err
    unknown = svc("services", "logs", "mysql", cwd=p, check=False)
    assert unknown.code == 2 and "not a service of this project" in unknown.err
    bad_toml = make_project(tmp_path / "bad", 'schema = 1\n[services]\npostgress = "15"\n')
    spec_err = svc("up", "-d", cwd=bad_toml, check=False)
    assert spec_err.code == 2 and 'did you mean "postgres"' in spec_err.err and "env.toml:3" in spec_err.err

    # A port someone else holds: a clear message, never a silent second instance.
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        taken = make_project(tmp_path / "taken",
                             f'schema = 1\n[services]\nredis = {{ version = "7", port = {port} }}\n')
        busy = svc("up", "-d", cwd=taken, check=False)
        assert busy.code == 1 and f"port {port} on 127.0.0.1 is in use" in busy.err

    # Data written by a newer major: refused, and nothing running is touched.
    svc("up", "-d", "redis", cwd=p)
    data = Path(str(state(svc, p)["postgres"]["data_dir"]))
    svc("up", "-d", "postgres", cwd=p)
    svc("down", "postgres", cwd=p)
    (data / "PG_VERSION").write_text("17\n")
    newer = svc("up", "-d", "postgres", cwd=p, check=False)
    assert newer.code == 1 and "written by postgres 17, newer than this env's 15" in newer.err
    assert state(svc, p)["redis"]["state"] == "running"


def test_mariadb_and_memcached(svc: Callable[..., Ran], tmp_path: Path) -> None:
    p = make_project(tmp_path / "blog", 'schema = 1\n[services]\nmariadb = "10.11"\nmemcached = "1"\n')
    svc("up", "-d", cwd=p)
    out = sh(svc, p, 'mariadb -u blog blog -e "create table posts (id int); insert into posts '
                     'values (7)" && mariadb -h "$MYSQL_HOST" -P "$MYSQL_TCP_PORT" -u blog blog '
                     '-N -e "select id from posts"')
    assert out == "7"
    assert "mysql://blog@127.0.0.1:" in sh(svc, p, 'echo "$DATABASE_URL"')
    port = int(sh(svc, p, 'echo "${MEMCACHE_SERVERS#*:}"'))
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"set k 0 0 2\r\nhi\r\nget k\r\n")
        time.sleep(0.2)
        assert b"VALUE k 0 2\r\nhi" in s.recv(256)
    svc("down", cwd=p)
    svc("up", "-d", "mariadb", cwd=p)
    assert sh(svc, p, 'mariadb -u blog blog -N -e "select id from posts"') == "7"


def test_compose_database_and_user_are_honoured(svc: Callable[..., Ran], tmp_path: Path) -> None:
    p = tmp_path / "app"
    p.mkdir()
    (p / "docker-compose.yml").write_text(
        "services:\n  db:\n    image: postgres:15\n    environment:\n"
        "      POSTGRES_DB: storefront\n      POSTGRES_USER: merchant\n      POSTGRES_PASSWORD: x\n")
    svc("init", cwd=p)
    text = (p / ".zagi" / "env.toml").read_text()
    assert 'postgres = {version = "15", database = "storefront", user = "merchant"}' in text
    svc("up", "-d", cwd=p)
    assert sh(svc, p, 'psql "$DATABASE_URL" -tAc "select current_database() || \' \' || current_user"') \
        == "storefront merchant"


def test_a_task_starts_what_it_needs_and_passes_its_exit_code(svc: Callable[..., Ran],
                                                            tmp_path: Path) -> None:
    p = make_project(tmp_path / "shop", PG15 + '[tasks]\n'
                     'check = { run = "psql -tAc \'select 40 + 2\'", needs = ["postgres"] }\n'
                     'args = "echo got"\nfail = "exit 3"\n'
                     'where = { run = "pwd", cwd = "sub" }\n')
    (p / "sub").mkdir()
    assert svc("task", "check", cwd=p).out.strip() == "42"
    assert state(svc, p)["postgres"]["state"] == "running"
    assert state(svc, p)["redis"]["state"] == "stopped"  # only what the task needs
    assert svc("task", "args", "a b", "c", cwd=p).out.strip() == "got a b c"
    assert svc("task", "fail", cwd=p, check=False).code == 3
    assert svc("task", "where", cwd=p).out.strip() == str((p / "sub").resolve())
    listed = svc("tasks", "--json", cwd=p).json()["tasks"]
    assert [t["name"] for t in listed] == ["args", "check", "fail", "where"]
    missing = svc("task", "chek", cwd=p, check=False)
    assert missing.code == 2 and 'did you mean "check"' in missing.err


def test_up_in_the_foreground_follows_logs_and_ctrl_c_stops_all(svc: Callable[..., Ran],
                                                               zenv: dict[str, str],
                                                               tmp_path: Path) -> None:
    p = make_project(tmp_path / "shop", PG15)
    svc("sync", cwd=p)
    fg = subprocess.Popen([zagi_exe(), "up"], cwd=p, env={**os.environ, **zenv},
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert fg.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + 120
    # Each server's own log lines, prefixed with its name (redis's name is padded).
    while not (any(ln.startswith("postgres | ") and "ready to accept connections" in ln
                   for ln in seen) and any(ln.startswith("redis    | ") for ln in seen)):
        assert time.monotonic() < deadline, "".join(seen)
        seen.append(fg.stdout.readline())
    fg.send_signal(signal.SIGINT)
    rest, _ = fg.communicate(timeout=60)
    assert fg.returncode == 0, rest
    assert "stopping postgres, redis" in rest
    assert all(r["state"] == "stopped" for r in state(svc, p).values())
    # A second run shows that run's lines, not the whole history again.
    fg = subprocess.Popen([zagi_exe(), "up", "redis"], cwd=p, env={**os.environ, **zenv},
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(3)
    fg.send_signal(signal.SIGINT)
    again, _ = fg.communicate(timeout=60)
    assert again.count("Server initialized") == 1, again


def test_services_json_shape(svc: Callable[..., Ran], tmp_path: Path) -> None:
    k = make_project(tmp_path / "stream", 'schema = 1\n[services]\nkafka = "3"\n')
    assert state(svc, k)["kafka"]["state"] == "unsupported"  # no lock needed to say so
    nope = svc("up", "-d", "kafka", cwd=k, check=False)
    assert nope.code == 2 and "zagi cannot run kafka yet" in nope.err
    p = make_project(tmp_path / "shop", 'schema = 1\n[services]\nredis = "7"\n')
    rows = state(svc, p)
    assert set(rows["redis"]) == {"name", "version", "state", "pid", "port", "socket",
                                  "data_dir", "log", "uptime"}
    up = svc("up", "-d", "--json", "redis", cwd=p).json()
    assert [r["name"] for r in up["services"]] == ["redis"] and up["services"][0]["pid"]
    logs = svc("services", "logs", "redis", "--json", cwd=p).json()
    assert any("Ready to accept connections" in ln for ln in logs["lines"])
    assert json.loads(svc("down", "--json", cwd=p).out) == {"stopped": ["redis"]}


def test_checkout_moves_running_services_to_the_new_version(svc: Callable[..., Ran],
                                                           tmp_path: Path) -> None:
    from tests.integration.test_history import git

    p = make_project(tmp_path / "shop", 'schema = 1\n[services]\npostgres = "13"\n')
    git(p, "init", "-q", "-b", "main")
    svc("lock", cwd=p)
    git(p, "add", "-A")
    git(p, "commit", "-qm", "postgres 13")
    toml = p / ".zagi" / "env.toml"
    toml.write_text(toml.read_text().replace('"13"', '"15"'))
    svc("lock", cwd=p)
    git(p, "commit", "-qam", "postgres 15")
    svc("allow", cwd=p)
    svc("up", "-d", cwd=p)
    assert "PostgreSQL 15." in sh(svc, p, 'psql "$DATABASE_URL" -tAc "select version()"')
    moved = svc("checkout", "HEAD~1", "--json", cwd=p).json()
    assert moved["services"] == ["postgres"] and moved["error"] is None
    assert state(svc, p)["postgres"]["version"] == "13"
    assert "PostgreSQL 13." in sh(svc, p, 'psql "$DATABASE_URL" -tAc "select version()"')
    svc("down", cwd=p)
    later = svc("checkout", "main", "--json", cwd=p).json()
    assert later["services"] == []  # nothing was running and autostart is off: none started
    assert state(svc, p)["postgres"]["state"] == "stopped"


def test_autostart_starts_services_on_entering_without_waiting(svc: Callable[..., Ran],
                                                              zenv: dict[str, str],
                                                              tmp_path: Path) -> None:
    from tests.integration.shells import Shell

    p = make_project(tmp_path / "shop",
                     'schema = 1\n[project]\nname = "shop"\nautostart = true\n'
                     '[services]\nredis = "7"\n')
    svc("sync", cwd=p)
    svc("allow", cwd=p)
    path = f"{Path(zagi_exe()).parent}:/usr/bin:/bin"
    sh_ = Shell("bash", {**zenv, "PATH": path, "HOME": str(tmp_path)}, str(tmp_path))
    try:
        assert sh_.run('eval "$(zagi hook bash)"') == ""
        t0 = time.monotonic()
        sh_.run(f"cd {p}")
        entered = time.monotonic() - t0
        assert sh_.run("echo $REDIS_URL").startswith("redis://127.0.0.1:")
        deadline = time.monotonic() + 60
        while state(svc, p)["redis"]["state"] != "running":
            assert time.monotonic() < deadline, "autostart never brought redis up"
            time.sleep(0.2)
        # The prompt came back at once: the hook starts `zagi up -d` in the background.
        assert entered < 2.0
        sh_.run("true")  # an idle prompt in the project starts nothing more
    finally:
        sh_.close()


def test_a_package_without_the_server_is_said_plainly(svc: Callable[..., Ran],
                                                     tmp_path: Path) -> None:
    # The stand-in's postgres 16 prints its version and nothing more (Debian has no 16).
    p = make_project(tmp_path / "old", 'schema = 1\n[services]\npostgres = "16"\n')
    ran = svc("up", "-d", cwd=p, check=False)
    assert ran.code == 1 and "postgres 16.2: the env's package has no initdb" in ran.err


def test_zagi_env_exports_the_service_variables(svc: Callable[..., Ran], tmp_path: Path) -> None:
    p = make_project(tmp_path / "shop", 'schema = 1\n[services]\nredis = { version = "7", '
                     'port = 26398 }\n')
    svc("sync", cwd=p)
    assert "REDIS_URL=redis://127.0.0.1:26398/0" in sh(svc, p, "env")
    assert "redis://127.0.0.1:26398/0" in svc("env", cwd=p).out
    assert svc("env", "--json", cwd=p).json()["set"]["REDIS_URL"] == "redis://127.0.0.1:26398/0"
    fish = svc("env", "--export", "fish", cwd=p).out
    assert "REDIS_URL" in fish


def test_two_ups_at_once_start_one_supervisor(svc: Callable[..., Ran], zenv: dict[str, str],
                                             tmp_path: Path) -> None:
    # The hook's autostart and a typed `zagi up` can meet: one waits for the other.
    p = make_project(tmp_path / "shop", 'schema = 1\n[services]\nredis = "7"\n')
    svc("sync", cwd=p)
    both = [subprocess.Popen([zagi_exe(), "up", "-d"], cwd=p, env={**os.environ, **zenv},
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    outs = [b.communicate(timeout=120) for b in both]
    assert [b.returncode for b in both] == [0, 0], outs
    supervisors = [d for d in Path("/proc").iterdir() if d.name.isdigit()
                   and b"supervisord" in _cmdline(d) and str(p).encode() not in _cmdline(d)
                   and _conf_of(d).startswith(os.environ["ZAGI_SERVICES_HOME"])]
    assert len(supervisors) == 1
    assert state(svc, p)["redis"]["state"] == "running"


def _cmdline(d: Path) -> bytes:
    try:
        return (d / "cmdline").read_bytes()
    except OSError:
        return b""


def _conf_of(d: Path) -> str:
    parts = _cmdline(d).split(b"\0")
    return parts[parts.index(b"-c") + 1].decode() if b"-c" in parts else ""


def test_a_normal_user_runs_services_as_themself(tmp_path: Path) -> None:
    """Not root: no service user, state under $ZAGI_HOME, sockets in /tmp/zagi-UID/ (mode
    700), supervisord under the system Python the user runs zagi with."""
    import pwd
    import shutil
    import tempfile

    from tests.conftest import require
    from tests.integration.conftest import STANDIN, drop_roots
    from tests.integration.machine import _site_packages

    require("setpriv")
    user = pwd.getpwnam("zagi-tester")
    base = Path(tempfile.mkdtemp(prefix="zagi-user-services-"))
    base.chmod(0o755)
    home, proj = base / "home", make_project(base / "shop", 'schema = 1\n[services]\npostgres = "15"\n')
    env = {"ZAGI_HOME": str(home), "ZAGI_NIXPKGS": str(STANDIN)}
    try:
        assert run_zagi("sync", cwd=proj, env=env, timeout=300).code == 0  # root builds the env
        for d in (home, proj):
            subprocess.run(["chown", "-R", f"{user.pw_uid}:{user.pw_gid}", str(d)], check=True)

        def as_user(*argv: str) -> subprocess.CompletedProcess[str]:
            e = {"HOME": str(base), "PATH": "/usr/bin:/bin", "ZAGI_HOME": str(home),
                 "ZAGI_NIXPKGS": str(STANDIN), "PYTHONPATH": f"{REPO_}:{_site_packages()}",
                 "NO_COLOR": "1"}
            return subprocess.run(["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}",
                                   "--clear-groups", "env", "-i", *[f"{k}={v}" for k, v in e.items()],
                                   "env", "-C", str(proj), *argv], capture_output=True, text=True,
                                  timeout=120)

        up = as_user("/usr/bin/python3.11", "-m", "zagi", "up", "-d")
        assert up.returncode == 0, up.stderr
        rows = json.loads(as_user("/usr/bin/python3.11", "-m", "zagi", "services", "--json").stdout)
        pg = rows["services"][0]
        assert pg["state"] == "running" and pg["data_dir"].startswith(str(home / "services"))
        assert Path(f"/proc/{pg['pid']}").stat().st_uid == user.pw_uid
        sock_dir = Path(pg["socket"]).parent
        assert str(sock_dir).startswith(f"/tmp/zagi-{user.pw_uid}/")
        assert sock_dir.stat().st_mode & 0o777 == 0o700 and sock_dir.stat().st_uid == user.pw_uid
        q = as_user(str(proj / ".zagi" / "env" / "bin" / "psql"), "-h", str(sock_dir), "-p",
                    str(pg["port"]), "-U", "shop", "-d", "shop", "-tAc", "select current_user")
        assert q.stdout.strip() == "shop", q.stderr
        down = as_user("/usr/bin/python3.11", "-m", "zagi", "down")
        assert down.returncode == 0 and "stopped: postgres" in down.stdout, down.stderr
    finally:
        as_user_down = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}",
                        "--clear-groups", "pkill", "-u", str(user.pw_uid), "-f", "supervisord"]
        subprocess.run(as_user_down, capture_output=True)
        drop_roots(home)
        shutil.rmtree(base, ignore_errors=True)
        shutil.rmtree(f"/tmp/zagi-{user.pw_uid}", ignore_errors=True)
