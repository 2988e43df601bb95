"""Services of a project: `zagi up`, `down`, `services`, `services logs`, and the
connection variables every activation of the env exports.

State lives outside git (layout.services_home()/<project key>/): data per major
(data/postgres-15/), logs, generated config, supervisord's files; sockets in a short
private runtime directory; ports in a registry shared by all projects, so two projects'
servers never collide. Server programs come from the env's store paths, never the host.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zagi.core import layout, proc
from zagi.core.errors import BadInput, ZagiError
from zagi.core.fsutil import atomic_write
from zagi.core.layout import Project
from zagi.core.names import did_you_mean
from zagi.formats.spec import EnvSpec
from zagi.services.kinds import KINDS, Instance, Kind
from zagi.services.supervise import Program, Supervisor

Event = Callable[[str], None]
SERVICE_USER = "zagi-services"
READY_TIMEOUT = 60.0
_STATES = {"RUNNING": "running", "STARTING": "starting", "BACKOFF": "restarting",
           "STOPPING": "stopping", "STOPPED": "stopped", "EXITED": "stopped",
           "FATAL": "failed", "UNKNOWN": "failed"}


class ServiceError(ZagiError):
    """A service would not start, stop or become ready (exit 1)."""


@dataclass(frozen=True)
class Place:
    """Where one project's services live."""

    base: Path
    sockets: Path

    @property
    def supervisor(self) -> Supervisor:
        return Supervisor(self.base, self.sockets / "supervisor.sock")

    def log(self, name: str) -> Path:
        return self.base / "logs" / f"{name}.log"


def where(project: Project) -> Place:
    key = layout.project_key(project.root)
    return Place(layout.services_home() / key, layout.runtime_dir() / key)


# --- what is declared -------------------------------------------------------------


def load_spec(project: Project) -> EnvSpec:
    from zagi.formats import spec as specfile

    return specfile.load(project.env_toml)


def _ident(text: str) -> str:
    s = re.sub(r"[^a-z0-9_]", "_", text.lower()).strip("_") or "app"
    return ("db_" + s if s[0].isdigit() else s)[:63]


def _locked_versions(project: Project) -> dict[str, str]:
    from zagi.formats import lockfile

    try:
        lk = lockfile.read(project.lock)
    except (OSError, ZagiError):
        return {}
    return {n: p.version or p.request for n, p in lk.packages.items() if p.kind == "service"}


def select(spec: EnvSpec, names: list[str] | None) -> list[str]:
    """The services asked for (all declared by default); unknown names are bad input."""
    declared = list(spec.services)
    for n in names or []:
        if n not in declared:
            known = did_you_mean(n, declared) if declared else ""
            raise BadInput(f"{n!r} is not a service of this project{known}",
                           hint=f"its services: {', '.join(declared)}" if declared
                           else "declare one in .zagi/env.toml [services], e.g. postgres = \"16\"")
    chosen = names or declared
    for n in chosen:
        if n not in KINDS:
            raise BadInput(f"zagi cannot run {n} yet; it runs: {', '.join(KINDS)}",
                           hint=f"{n}'s programs are on the env's PATH; start it yourself")
    return chosen


# --- ports and directories ----------------------------------------------------------


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield


def _port_free(port: int) -> bool:
    import socket

    with socket.socket() as s:
        # As the servers bind: SO_REUSEADDR, so connections of the last run in TIME_WAIT
        # do not count, while a program listening there still does.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def ports(project: Project, spec: EnvSpec) -> dict[str, int]:
    """name -> port: the one the spec sets, else the one this project was given before,
    else a new one that no other project holds and nothing listens on (recorded)."""
    home = layout.services_home()
    key = layout.project_key(project.root)
    registry = home / "ports.json"
    with _locked(home / ".ports.lock"):
        try:
            held: dict[str, str] = json.loads(registry.read_text())
        except (OSError, ValueError):
            held = {}
        mine = {owner.split("/", 1)[1]: int(p) for p, owner in held.items()
                if owner.startswith(key + "/")}
        out: dict[str, int] = {}
        changed = False
        for name in spec.services:
            if name not in KINDS:
                continue
            fixed = spec.service(name).port
            if fixed:
                out[name] = fixed
                continue
            if name in mine:
                out[name] = mine[name]
                continue
            start = 20000 + int(key, 16) % 20000
            port = next(p for p in range(start, start + 2000)
                        if str(p) not in held and _port_free(p))
            held[str(port)] = f"{key}/{name}"
            out[name] = port
            changed = True
        if changed:
            atomic_write(registry, json.dumps(held, indent=1, sort_keys=True) + "\n")
    return out


def instances(project: Project, spec: EnvSpec, out: str | None) -> dict[str, Instance]:
    """Every runnable declared service, resolved (pkg is empty when the env is not built)."""
    w = where(project)
    versions = _locked_versions(project)
    given = ports(project, spec)
    default_db = _ident(spec.project.name if spec.project else project.root.name)
    found: dict[str, Instance] = {}
    for name in spec.services:
        kind = KINDS.get(name)
        if kind is None:
            continue
        version = versions.get(name) or spec.service(name).version
        pkg = _package(out, kind) if out else Path()
        s = spec.service(name)
        db = s.database or default_db
        found[name] = Instance(
            name=name, version=version, pkg=pkg,
            data=w.base / "data" / f"{name}-{kind.major(version)}",
            sockets=w.sockets / name, run=w.base / "run", port=given[name],
            database=db, user=s.user or db)
    return found


def _package(out: str, kind: Kind) -> Path:
    """The store path of the package that provides kind.program in the env `out`."""
    link = Path(out) / "bin" / kind.program
    try:
        real = link.resolve(strict=True)
    except OSError:
        return Path()
    store = Path(out).parent
    for parent in real.parents:
        if parent.parent == store:
            return parent
    return Path()


# --- connection variables (activation) ---------------------------------------------


def connection_env(project: Project, spec: EnvSpec) -> dict[str, str]:
    """What programs in the env need to reach its services; [env] entries win."""
    insts = instances(project, spec, None)
    env: dict[str, str] = {}
    sql: list[str] = []
    for inst in insts.values():
        kind = KINDS[inst.name]
        env.update(kind.env(inst))
        if kind.sql:
            sql.append({"postgres": "POSTGRES_URL"}.get(inst.name, "MYSQL_URL"))
    if len(sql) == 1:
        env["DATABASE_URL"] = env[sql[0]]
    return {k: v for k, v in env.items() if k not in spec.env}


def write_activation(project: Project, spec: EnvSpec) -> None:
    """The project's service variables as activation files the hooks source after the
    env's own (per project: two projects with one env have different ports)."""
    from shellhooks import activation

    d = layout.project_dir(project.root)
    env = connection_env(project, spec) if any(n in KINDS for n in spec.services) else {}
    # The hooks start services on entering the project when it opts in ([project]
    # autostart): a marker here, so they need not read env.toml.
    marker = d / "autostart"
    if env and spec.project and spec.project.autostart:
        atomic_write(marker, "", mode=0o444)
    else:
        marker.unlink(missing_ok=True)
    if not env:
        for name in [*activation.render_all({"out": "", "prepend": {}, "set": {}}),
                     layout.ACTIVATE_JSON]:
            (d / name).unlink(missing_ok=True)
        return
    act: dict[str, object] = {"out": "", "prepend": {}, "set": dict(sorted(env.items()))}
    for name, text in activation.render_all(act).items():
        atomic_write(d / name, text, mode=0o444)
    atomic_write(d / layout.ACTIVATE_JSON, json.dumps({"set": act["set"]}, indent=1) + "\n",
                 mode=0o444)


# --- running ------------------------------------------------------------------------


def service_user() -> tuple[str, int, int] | None:
    """As root, servers run as an unprivileged user (postgres refuses root): the one
    ZAGI_SERVICE_USER names, else zagi-services, created on first use."""
    if os.geteuid() != 0:
        return None
    import pwd

    name = os.environ.get("ZAGI_SERVICE_USER") or SERVICE_USER
    try:
        pw = pwd.getpwnam(name)
    except KeyError:
        if name != SERVICE_USER:
            raise BadInput(f"ZAGI_SERVICE_USER={name}: no such user") from None
        res = proc.run(["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
                        "--shell", "/usr/sbin/nologin", "--user-group", name])
        if not res.ok:
            raise ServiceError(f"could not create the service user {name}",
                               hint=res.stderr.strip() or None) from None
        pw = pwd.getpwnam(name)
    return name, pw.pw_uid, pw.pw_gid


def _private_dir(path: Path, owner: tuple[str, int, int] | None, mode: int = 0o700) -> None:
    """Make `path` (or check it): a directory we own, not writable by anyone else — a
    socket directory under /tmp must not be one someone else prepared for us."""
    path.mkdir(parents=True, exist_ok=True, mode=mode)
    st = path.lstat()
    uid = owner[1] if owner else os.geteuid()
    if owner and st.st_uid != uid:
        os.chown(path, owner[1], owner[2])
        st = path.lstat()
    import stat

    if not stat.S_ISDIR(st.st_mode) or st.st_uid != uid or st.st_mode & 0o022:
        raise ServiceError(f"{path} is not a private directory of this user (owner "
                           f"{st.st_uid}, mode {oct(st.st_mode & 0o777)}); refusing to use it",
                           hint="remove it and run `zagi up` again")


def _prepare(w: Place, insts: list[Instance], user: tuple[str, int, int] | None) -> None:
    shared = 0o755 if user else 0o700
    for d in (w.base, w.base / "logs", w.base / "data"):
        d.mkdir(parents=True, exist_ok=True, mode=shared)
    _private_dir(w.sockets.parent, None, 0o755 if user else 0o700)
    _private_dir(w.sockets, None, 0o755 if user else 0o700)
    _private_dir(w.base / "run", user)
    for inst in insts:
        _private_dir(inst.sockets, user)


def _program(inst: Instance, w: Place, user: tuple[str, int, int] | None) -> Program:
    kind = KINDS[inst.name]
    env = {"PATH": f"{inst.pkg / 'bin'}:/usr/bin:/bin", "LANG": "C", "LC_ALL": "C",
           "TZ": "UTC", "HOME": str(inst.data)}
    return Program(inst.name, kind.command(inst), kind.stop_signal, w.log(inst.name), env,
                   user[0] if user else None)


def _check_data(inst: Instance, say: Event) -> None:
    kind = KINDS[inst.name]
    wrote = kind.data_version(inst.data)
    if wrote is not None and wrote != inst.major:
        newer = _numeric(wrote) > _numeric(inst.major)
        raise ServiceError(
            f"{inst.name}: {inst.data} was written by {inst.name} {wrote}, "
            f"{'newer than' if newer else 'not'} this env's {inst.major}; refusing to start it",
            hint="a newer major's data cannot be read by an older server" if newer else
            "upgrade the data with the newer server's tools (pg_upgrade), or remove it")
    for other in sorted(inst.data.parent.glob(f"{inst.name}-*")):
        if other != inst.data and other.is_dir():
            say(f"{inst.name}: data of {other.name} kept at {other} "
                f"(this env runs {inst.major}; switching back finds it)")


def _numeric(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", v)) or (0,)


def _init(inst: Instance, user: tuple[str, int, int] | None, say: Event) -> None:
    """Initialise the data dir once, into a temporary dir renamed into place: a failed or
    interrupted initdb never leaves a half-made data dir behind."""
    kind = KINDS[inst.name]
    if kind.initialised(inst):
        return
    steps = kind.init(inst, inst.data.with_name(inst.data.name + ".init"))
    if not steps:
        inst.data.mkdir(mode=0o700, exist_ok=True)
        if user:
            os.chown(inst.data, user[1], user[2])
        return
    tmp = inst.data.with_name(inst.data.name + ".init")
    import shutil

    shutil.rmtree(tmp, ignore_errors=True)
    if inst.data.exists():
        shutil.rmtree(inst.data)  # exists but was never initialised (no PG_VERSION, ...)
    tmp.mkdir(mode=0o700)
    if user:
        os.chown(tmp, user[1], user[2])
    say(f"{inst.name}: initialising {inst.data} (database {inst.database}, user {inst.user})")
    env = {"PATH": f"{inst.pkg / 'bin'}:/usr/bin:/bin", "LANG": "C", "LC_ALL": "C",
           "TZ": "UTC", "HOME": str(tmp)}
    for argv, stdin in steps:
        res = proc.run(argv, env=env, inherit_env=False, input_text=stdin, cwd=tmp,
                       timeout=kind.init_timeout, as_user=(user[1], user[2]) if user else None)
        if not res.ok:
            shutil.rmtree(tmp, ignore_errors=True)
            tail = "\n".join((res.stdout + res.stderr).strip().splitlines()[-15:])
            raise ServiceError(f"{inst.name}: initialising its data failed "
                               f"({Path(argv[0]).name} exit {res.returncode})", hint=tail or None)
    os.rename(tmp, inst.data)


def _recover(w: Place, insts: dict[str, Instance]) -> list[str]:
    """After a supervisor died (kill -9, reboot): stop servers it left running, by the
    pids zagi recorded, when they are still a program from the store."""
    stopped = []
    for rec in sorted((w.base / "run").glob("*.supervised")):
        name = rec.stem
        try:
            pid = int(rec.read_text().strip())
            exe = os.readlink(f"/proc/{pid}/exe")
        except (OSError, ValueError):
            rec.unlink(missing_ok=True)
            continue
        if not exe.startswith("/nix/store/"):
            rec.unlink(missing_ok=True)
            continue
        sig = getattr(signal, "SIG" + (KINDS[name].stop_signal if name in KINDS else "TERM"))
        _stop_pid(pid, sig)
        rec.unlink(missing_ok=True)
        stopped.append(name)
    return stopped


def _stop_pid(pid: int, sig: int, bound: float = 20.0) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.01)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def up(project: Project, out: str, names: list[str] | None = None, *,
       timeout: float = READY_TIMEOUT, say: Event = lambda _m: None) -> list[Instance]:
    """Start the services asked for (all by default) from the realized env `out` and
    return once each is ready."""
    spec = load_spec(project)
    chosen = select(spec, names)
    insts = instances(project, spec, out)
    for name in chosen:
        if not insts[name].pkg.parts or not (insts[name].pkg / "bin" / KINDS[name].program).exists():
            raise ServiceError(f"{name}: the env has no {KINDS[name].program}",
                               hint="its package does not provide the server program; "
                                    "check [services] in .zagi/env.toml")
    user = service_user()
    w = where(project)
    _prepare(w, list(insts.values()), user)
    sup = w.supervisor
    running = sup.pid() is not None
    if not running:
        for name in _recover(w, insts):
            say(f"{name}: stopped a server a previous supervisor left running")
    programs = [_program(i, w, user) for i in insts.values()]
    restart = running and sup.conf_differs(programs)
    if restart:
        # A version or setting changed under a running supervisor (a checkout): the old
        # servers stop, and the ones that ran start again from the new config.
        was = [n for n, p in sup.info().items() if p["statename"] in ("RUNNING", "STARTING")]
        chosen += [n for n in was if n in insts and n not in chosen]
    todo = [insts[n] for n in chosen]
    for inst in todo:  # refuse before anything running is touched
        _check_data(inst, say)
    if restart:
        say("services changed; restarting " + ", ".join(chosen))
        sup.shutdown()
        running = False
    sup.write_conf(programs)
    for inst in todo:
        _init(inst, user, say)
        for fname, text in KINDS[inst.name].files(inst).items():
            atomic_write(inst.run / fname, text, mode=0o644)
    if not running:
        sup.start()
    info = sup.info()
    started = []
    for inst in todo:
        if info.get(inst.name, {}).get("statename") in ("RUNNING", "STARTING"):
            continue
        if not _port_free(inst.port):
            raise ServiceError(
                f"{inst.name}: port {inst.port} on 127.0.0.1 is in use by another program",
                hint=f"stop it, or give this project another: [services.{inst.name}] port = N")
        sup.call("startProcess", inst.name, False)
        started.append(inst)
    _wait(sup, w, todo, timeout, say)
    for inst in started:
        pid = sup.info().get(inst.name, {}).get("pid")
        if pid:
            atomic_write(inst.run / f"{inst.name}.supervised", f"{pid}\n")
    return todo


def _wait(sup: Supervisor, w: Place, todo: list[Instance], timeout: float, say: Event) -> None:
    pending = {i.name: i for i in todo}
    deadline = time.monotonic() + timeout
    checked = 0.0
    while pending:
        for name in [n for n, i in pending.items() if KINDS[n].ready(i)]:
            say(f"{name} ready on 127.0.0.1:{pending.pop(name).port}")
        if not pending:
            return
        now = time.monotonic()
        if now - checked > 0.1:  # the supervisor's view, less often than the cheap probe
            checked = now
            info = sup.info()
            for name in pending:
                state = info.get(name, {}).get("statename")
                if state in ("FATAL", "EXITED", "STOPPED"):
                    raise _failed(w, name, f"exited ({state.lower()}) before it was ready")
        if now > deadline:
            name = next(iter(pending))
            raise _failed(w, name, f"not ready within {timeout:.0f}s")
        time.sleep(0.003)


def _failed(w: Place, name: str, why: str) -> ServiceError:
    tail = tail_lines(w.log(name), 15)
    return ServiceError(f"{name} {why}; its last log lines:\n" + ("\n".join(tail) or "(none)"),
                        hint=f"full log: zagi services logs {name}",
                        details={"service": name})


def down(project: Project, names: list[str] | None = None) -> list[str]:
    """Stop the services asked for (all by default); the supervisor goes with the last."""
    spec = load_spec(project)
    chosen = select(spec, names) if names else [n for n in spec.services if n in KINDS]
    w = where(project)
    sup = w.supervisor
    info = sup.info()
    if not info:
        return _recover(w, {})
    stopped = []
    for name in chosen:
        if info.get(name, {}).get("statename") in ("RUNNING", "STARTING", "BACKOFF"):
            sup.call("stopProcess", name, True)
            stopped.append(name)
        (w.base / "run" / f"{name}.supervised").unlink(missing_ok=True)
    left = [n for n, p in sup.info().items() if p["statename"] in ("RUNNING", "STARTING", "BACKOFF")]
    if not left:
        sup.shutdown()
    return stopped


def status(project: Project) -> list[dict[str, Any]]:
    spec = load_spec(project)
    w = where(project)
    insts = instances(project, spec, None)
    info = w.supervisor.info()
    rows: list[dict[str, Any]] = []
    now = time.time()
    for name in spec.services:
        inst = insts.get(name)
        if inst is None:
            rows.append({"name": name, "version": spec.service(name).version,
                         "state": "unsupported"})
            continue
        p = info.get(name, {})
        state = _STATES.get(p.get("statename", "STOPPED"), "stopped")
        if state == "starting" and KINDS[name].ready(inst):
            state = "running"  # supervisord waits startsecs; the probe already answers
        sock = KINDS[name].socket_path(inst)
        rows.append({
            "name": name, "version": inst.version, "state": state,
            "pid": (p.get("pid") or None) if state != "stopped" else None,
            "port": inst.port, "socket": str(sock) if sock else None,
            "data_dir": str(inst.data), "log": str(w.log(name)),
            "uptime": round(now - p["start"], 1) if state == "running" and p.get("start") else None,
        })
    return rows


def tail_lines(path: Path, n: int) -> list[str]:
    try:
        with path.open("rb") as fh:
            fh.seek(0, 2)
            size = fh.tell()
            fh.seek(max(0, size - 64 * 1024))
            data = fh.read()
    except OSError:
        return []
    return data.decode("utf-8", "replace").splitlines()[-n:]


def log_path(project: Project, name: str) -> Path:
    select(load_spec(project), [name])
    return where(project).log(name)


def log_sizes(project: Project, names: list[str] | None) -> dict[str, int]:
    """Where each log (of `names`, default every declared service) ends now: `zagi up`
    in the foreground shows what follows."""
    w = where(project)
    out = {}
    for n in names if names is not None else list(load_spec(project).services):
        try:
            out[n] = w.log(n).stat().st_size
        except OSError:
            out[n] = 0
    return out


def follow(project: Project, offsets: dict[str, int], emit: Callable[[str, str], None],
           keep_going: Callable[[], bool], poll: float = 0.1) -> None:
    """Hand each new log line to emit(name, line) until keep_going() is false; a rotated
    log (shorter than where we were) is read again from its start."""
    w = where(project)
    pos = dict(offsets)
    partial = {n: b"" for n in offsets}
    while keep_going():
        for name in pos:
            try:
                with w.log(name).open("rb") as fh:
                    fh.seek(0, 2)
                    if fh.tell() < pos[name]:
                        pos[name] = 0
                    fh.seek(pos[name])
                    chunk = fh.read(1 << 20)
                    pos[name] = fh.tell()
            except OSError:
                continue
            lines = (partial[name] + chunk).split(b"\n")
            partial[name] = lines.pop()
            for line in lines:
                emit(name, line.decode("utf-8", "replace"))
        time.sleep(poll)


def after_checkout(project: Project, out: str, say: Event = lambda _m: None, *,
                   autostart: bool = True) -> list[str]:
    """After a checkout moved the env: services that were running follow it (a changed
    version stops and the new one starts; one no longer declared stops); with
    [project] autostart (and `autostart` allowed by the caller), every declared service
    starts. The names now up."""
    spec = load_spec(project)
    runnable = [n for n in spec.services if n in KINDS]
    sup = where(project).supervisor
    running = [n for n, p in sup.info().items() if p["statename"] in ("RUNNING", "STARTING")]
    auto = autostart and bool(spec.project and spec.project.autostart)
    names = runnable if auto else [n for n in running if n in runnable]
    if not names:
        if running:
            say("stopping " + ", ".join(running) + " (no longer in [services])")
            sup.shutdown()
        return []
    up(project, out, names, say=say)
    return names
