"""What each service is: how its data is initialised, how it runs, when it is ready, and
how programs reach it. Pure descriptions over an `Instance`; running them is
zagi/services/runtime.py's job.

Every server binds 127.0.0.1 only (and a unix socket where it has one), keeps its data
per major version, and is reached through variables the env exports.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Instance:
    """One declared service of one project, with everything resolved."""

    name: str  # the [services] key: postgres, redis, ...
    version: str  # the locked version
    pkg: Path  # the server's package in the store (the env's bin/<program> resolved)
    data: Path  # data dir for this major (postgres-15/)
    sockets: Path  # directory for its unix socket
    run: Path  # pid files and generated config
    port: int
    database: str
    user: str

    @property
    def major(self) -> str:
        return KINDS[self.name].major(self.version)


class Kind:
    """Defaults for a server; each service overrides what differs."""

    program: str = ""
    tools: tuple[str, ...] = ()  # other programs of its package that zagi runs
    stop_signal = "TERM"
    sql = False
    default_port = 0
    init_timeout = 120.0

    def major(self, version: str) -> str:
        return version.split(".")[0]

    def initialised(self, inst: Instance) -> bool:
        return inst.data.is_dir()

    def init(self, inst: Instance, into: Path) -> list[tuple[list[str], str | None]]:
        """Commands (argv, stdin) that make a fresh data dir at `into`."""
        return []

    def files(self, inst: Instance) -> dict[str, str]:
        """Config files written (under inst.run) before every start."""
        return {}

    def command(self, inst: Instance) -> list[str]:
        raise NotImplementedError

    def ready(self, inst: Instance) -> bool:
        raise NotImplementedError

    def data_version(self, data: Path) -> str | None:
        """The major that wrote `data`, when the server records it."""
        return None

    def env(self, inst: Instance) -> dict[str, str]:
        return {}

    def socket_path(self, inst: Instance) -> Path | None:
        return None

    def bin(self, inst: Instance, name: str) -> str:
        return str(inst.pkg / "bin" / name)


def _tcp_says(port: int, send: bytes, expect: bytes) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(send)
            return s.recv(64).startswith(expect)
    except OSError:
        return False


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Postgres(Kind):
    program = "postgres"
    tools: tuple[str, ...] = ("initdb",)
    stop_signal = "INT"  # fast shutdown: SIGTERM ("smart") would wait for every client
    sql = True
    default_port = 5432

    def initialised(self, inst: Instance) -> bool:
        return (inst.data / "PG_VERSION").is_file()

    def init(self, inst: Instance, into: Path) -> list[tuple[list[str], str | None]]:
        # C locale: the host's locales are not in the env, and a dev database needs none.
        steps: list[tuple[list[str], str | None]] = [
            ([self.bin(inst, "initdb"), "-D", str(into), "-U", inst.user, "--auth=trust",
              "--encoding=UTF8", "--locale=C"], None)]
        if inst.database != "postgres":
            # Single-user mode creates the database without starting a server on a port.
            steps.append(([self.bin(inst, "postgres"), "--single", "-D", str(into), "postgres"],
                          f'CREATE DATABASE "{inst.database}";\n'))
        return steps

    def command(self, inst: Instance) -> list[str]:
        return [self.bin(inst, "postgres"), "-D", str(inst.data), "-p", str(inst.port),
                "-k", str(inst.sockets), "-c", "listen_addresses=127.0.0.1",
                "-c", "logging_collector=off"]

    def ready(self, inst: Instance) -> bool:
        # What pg_ctl -w reads: postmaster.pid's status line says "ready" once the
        # server accepts connections (no process to start, unlike pg_isready).
        try:
            lines = (inst.data / "postmaster.pid").read_text().splitlines()
        except OSError:
            return False
        return len(lines) >= 8 and lines[7].strip() == "ready" and _pid_alive(int(lines[0]))

    def data_version(self, data: Path) -> str | None:
        try:
            return (data / "PG_VERSION").read_text().strip()
        except OSError:
            return None

    def socket_path(self, inst: Instance) -> Path:
        return inst.sockets / f".s.PGSQL.{inst.port}"

    def env(self, inst: Instance) -> dict[str, str]:
        url = f"postgresql://{inst.user}@127.0.0.1:{inst.port}/{inst.database}"
        return {"PGHOST": str(inst.sockets), "PGPORT": str(inst.port), "PGUSER": inst.user,
                "PGDATABASE": inst.database, "POSTGRES_URL": url}


class MariaDB(Kind):
    program = "mariadbd"
    tools: tuple[str, ...] = ("mariadb-install-db",)
    sql = True
    default_port = 3306

    def major(self, version: str) -> str:
        return ".".join(version.split(".")[:2])

    def initialised(self, inst: Instance) -> bool:
        return (inst.data / "mysql").is_dir()

    def init(self, inst: Instance, into: Path) -> list[tuple[list[str], str | None]]:
        return [([self.bin(inst, "mariadb-install-db"), "--no-defaults", f"--basedir={inst.pkg}",
                  f"--datadir={into}", "--auth-root-authentication-method=normal",
                  "--skip-test-db", "--skip-name-resolve"], None)]

    def files(self, inst: Instance) -> dict[str, str]:
        # Run at every start, idempotent: the project's database and passwordless user.
        db, u = inst.database, inst.user
        sql = [f"CREATE DATABASE IF NOT EXISTS `{db}`;"]
        for host in ("localhost", "127.0.0.1"):
            sql += [f"CREATE USER IF NOT EXISTS '{u}'@'{host}';",
                    f"GRANT ALL ON `{db}`.* TO '{u}'@'{host}';"]
        return {f"{inst.name}-init.sql": "\n".join(sql) + "\n"}

    def command(self, inst: Instance) -> list[str]:
        return [self.bin(inst, self.program), "--no-defaults", f"--basedir={inst.pkg}",
                f"--datadir={inst.data}", f"--socket={self.socket_path(inst)}",
                f"--port={inst.port}", "--bind-address=127.0.0.1", "--skip-name-resolve",
                f"--pid-file={inst.run / (inst.name + '.pid')}",
                f"--init-file={inst.run / (inst.name + '-init.sql')}"]

    def ready(self, inst: Instance) -> bool:
        # The server greets first: protocol version 10 in the first packet means it
        # accepts connections (no mariadb-admin process per probe).
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(0.5)
                s.connect(str(self.socket_path(inst)))
                head = s.recv(5)
        except OSError:
            return False
        return len(head) == 5 and head[4] == 10

    def socket_path(self, inst: Instance) -> Path:
        return inst.sockets / "mysqld.sock"

    def env(self, inst: Instance) -> dict[str, str]:
        return {"MYSQL_HOST": "127.0.0.1", "MYSQL_TCP_PORT": str(inst.port),
                "MYSQL_UNIX_PORT": str(self.socket_path(inst)),
                "MYSQL_URL": f"mysql://{inst.user}@127.0.0.1:{inst.port}/{inst.database}"}


class MySQL(MariaDB):
    """MySQL runs like MariaDB; only the data dir is made differently (mysqld itself).
    Not exercised against a real MySQL here: Debian, where the test servers come from,
    carries none."""

    program = "mysqld"
    tools: tuple[str, ...] = ()

    def init(self, inst: Instance, into: Path) -> list[tuple[list[str], str | None]]:
        return [([self.bin(inst, self.program), "--no-defaults", "--initialize-insecure",
                  f"--basedir={inst.pkg}", f"--datadir={into}"], None)]


class Redis(Kind):
    program = "redis-server"
    default_port = 6379

    def files(self, inst: Instance) -> dict[str, str]:
        conf = ["bind 127.0.0.1", f"port {inst.port}", "protected-mode yes",
                f"unixsocket {self.socket_path(inst)}", "unixsocketperm 700",
                f"dir {inst.data}", f"pidfile {inst.run / (inst.name + '.pid')}",
                "daemonize no", "save 60 1", "appendonly no", "loglevel notice"]
        return {f"{inst.name}.conf": "\n".join(conf) + "\n"}

    def command(self, inst: Instance) -> list[str]:
        return [self.bin(inst, self.program), str(inst.run / f"{inst.name}.conf")]

    def ready(self, inst: Instance) -> bool:
        return _tcp_says(inst.port, b"PING\r\n", b"+PONG")

    def socket_path(self, inst: Instance) -> Path:
        return inst.sockets / f"{inst.name}.sock"

    def env(self, inst: Instance) -> dict[str, str]:
        return {"REDIS_URL": f"redis://127.0.0.1:{inst.port}/0"}


class Valkey(Redis):
    program = "valkey-server"


class Memcached(Kind):
    program = "memcached"
    default_port = 11211

    def command(self, inst: Instance) -> list[str]:
        return [self.bin(inst, self.program), "-l", "127.0.0.1", "-p", str(inst.port),
                "-U", "0", "-m", "64"]

    def ready(self, inst: Instance) -> bool:
        return _tcp_says(inst.port, b"version\r\n", b"VERSION")

    def env(self, inst: Instance) -> dict[str, str]:
        return {"MEMCACHED_URL": f"memcached://127.0.0.1:{inst.port}",
                "MEMCACHE_SERVERS": f"127.0.0.1:{inst.port}"}


# The variables each env() sets are listed in zagi/core/envnames.py SERVICE_VARS (a
# test keeps them equal).
KINDS: dict[str, Kind] = {
    "postgres": Postgres(), "mariadb": MariaDB(), "mysql": MySQL(),
    "redis": Redis(), "valkey": Valkey(), "memcached": Memcached(),
}
