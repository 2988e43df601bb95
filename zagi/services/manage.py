"""Running a project's services: `zagi up`, `down`, `services`, `services logs`, and
following a checkout. What is declared (versions, ports, connection variables) is
zagi/services/declared.py; what each server is, kinds.py; the supervisor, supervise.py.

State lives outside git (layout.services_home()/<project key>/): data per major
(data/postgres-15/), logs, generated config, supervisord's files; sockets in a short
private runtime directory. Server programs come from the env's store paths, never the host.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from zagi.core import proc
from zagi.core.errors import BadInput, ZagiError
from zagi.core.layout import Project
from zagi.services.declared import Place, declared, instances, port_free, select, where
from zagi.services.kinds import KINDS, Instance
from zagi.services.supervise import Program, Supervisor, write_if_changed

Event = Callable[[str], None]
SERVICE_USER = "zagi-services"
READY_TIMEOUT = 60.0
_UP = ("RUNNING", "STARTING", "BACKOFF")
_STATES = {"RUNNING": "running", "STARTING": "starting", "BACKOFF": "restarting",
           "STOPPING": "stopping", "STOPPED": "stopped", "EXITED": "stopped",
           "FATAL": "failed", "UNKNOWN": "failed"}


class ServiceError(ZagiError):
    """A service would not start, stop or become ready (exit 1)."""


def supervisor(w: Place) -> Supervisor:
    return Supervisor(w.base, w.sockets / "supervisor.sock")


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


def private_dir(path: Path, owner: tuple[str, int, int] | None, mode: int = 0o700) -> None:
    """Make `path` (or check it): a directory of ours (or of `owner`), writable by nobody
    else: a socket directory under /tmp must not be one someone else prepared for us."""
    import stat

    path.mkdir(parents=True, exist_ok=True, mode=mode)
    st = path.lstat()
    uid = owner[1] if owner else os.geteuid()
    if owner and stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid() != uid:
        os.chown(path, owner[1], owner[2])  # ours (root's), made for the service user
        st = path.lstat()
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != uid or st.st_mode & 0o022:
        raise ServiceError(f"{path} is not a private directory of this user (owner "
                           f"{st.st_uid}, mode {oct(st.st_mode & 0o777)}); refusing to use it",
                           hint="remove it and run `zagi up` again")


def _prepare(w: Place, insts: list[Instance], user: tuple[str, int, int] | None) -> None:
    shared = 0o755 if user else 0o700  # the service user must reach its own dirs below
    for d in (w.base, w.base / "logs", w.base / "data"):
        d.mkdir(parents=True, exist_ok=True, mode=shared)
    private_dir(w.sockets.parent, None, shared)
    private_dir(w.sockets, None, shared)
    private_dir(w.base / "run", user)
    for inst in insts:
        private_dir(inst.sockets, user)


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

    if inst.data.exists():  # zagi initialises into .init and renames: this is not ours
        raise ServiceError(f"{inst.name}: {inst.data} exists but holds no {inst.name} data; "
                           "refusing to initialise over it", hint="move it away, then `zagi up`")
    shutil.rmtree(tmp, ignore_errors=True)  # an interrupted earlier attempt
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


def _started_at(pid: int) -> str | None:
    """The process's start time (clock ticks since boot, /proc/PID/stat field 22): with
    the pid, it names one process; a reused pid has another."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def _record(inst: Instance, pid: int) -> None:
    """For _recover: which process the supervisor started for this service."""
    _write_fast(inst.run / f"{inst.name}.supervised", f"{pid} {_started_at(pid)}\n")


def _recover(w: Place) -> list[str]:
    """After a supervisor died (kill -9, a crash): stop the servers it left running, by
    the records zagi wrote, when the pid is still that very process."""
    stopped = []
    for rec in sorted((w.base / "run").glob("*.supervised")):
        name = rec.stem
        try:
            pid_s, started = rec.read_text().split()
            pid = int(pid_s)
        except (OSError, ValueError):
            rec.unlink(missing_ok=True)
            continue
        if _started_at(pid) == started:
            sig = getattr(signal, "SIG" + (KINDS[name].stop_signal if name in KINDS else "TERM"))
            _stop_pid(pid, sig)
            stopped.append(name)
        rec.unlink(missing_ok=True)
    return stopped


def _stop_pid(pid: int, sig: int, bound: float = 20.0) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        try:
            if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                return  # exited; its parent has yet to reap it
        except (OSError, IndexError):
            return
        time.sleep(0.01)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def up(project: Project, out: str, names: list[str] | None = None, *,
       timeout: float = READY_TIMEOUT, say: Event = lambda _m: None) -> list[Instance]:
    """Start the services asked for (all by default) from the realized env `out` and
    return once each is ready. One `up` or `down` at a time per project (a file lock):
    the hook's autostart and a `zagi up` typed at once must not start two supervisors."""
    decl = declared(project)
    chosen = select(decl, names)
    insts = instances(project, decl, out)
    _check_packages(insts, chosen)
    user = service_user()
    w = where(project)
    with _project_lock(w, user):
        _prepare(w, list(insts.values()), user)
        sup = supervisor(w)
        todo = _configure(sup, w, insts, chosen, user, say)
        started = _start(sup, todo)
        _wait(sup, w, todo, timeout, say)
        for inst in started:  # for the recovery after a supervisor's kill -9 (_recover)
            pid = sup.call("getProcessInfo", inst.name).get("pid")
            if pid:
                _record(inst, int(pid))
    return todo


@contextlib.contextmanager
def _project_lock(w: Place, user: tuple[str, int, int] | None) -> Iterator[None]:
    import fcntl

    w.base.mkdir(parents=True, exist_ok=True, mode=0o755 if user else 0o700)
    with (w.base / ".lock").open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield


def _check_packages(insts: dict[str, Instance], chosen: list[str]) -> None:
    for name in chosen:
        kind, pkg = KINDS[name], insts[name].pkg
        missing = [p for p in (kind.program, *kind.tools)
                   if not pkg.parts or not (pkg / "bin" / p).exists()]
        if missing:
            raise ServiceError(f"{name} {insts[name].version}: the env's package has no "
                               f"{', '.join(missing)}",
                               hint="its package does not provide the server; check "
                                    f"[services] {name} in .zagi/env.toml")


def _configure(sup: Supervisor, w: Place, insts: dict[str, Instance], chosen: list[str],
               user: tuple[str, int, int] | None, say: Event) -> list[Instance]:
    """Everything before a start: servers an earlier supervisor left behind stopped, a
    running supervisor restarted when the config changed (a checkout moved a version:
    the servers that ran start again from the new one), data checked and initialised,
    config files written, the supervisor running. The services to start."""
    running = sup.pid() is not None
    if not running:
        for name in _recover(w):
            say(f"{name}: stopped a server a previous supervisor left running")
    programs = [_program(i, w, user) for i in insts.values()]
    restart = running and sup.conf_differs(programs)
    if restart:
        was = [n for n, p in sup.info().items() if p["statename"] in ("RUNNING", "STARTING")]
        chosen = chosen + [n for n in was if n in insts and n not in chosen]
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
            write_if_changed(inst.run / fname, text, 0o644)
    if not running:
        sup.start()
    return todo


def _start(sup: Supervisor, todo: list[Instance]) -> list[Instance]:
    """Ask the supervisor to start each service not already up; the ones it started."""
    started = []
    info: dict[str, dict[str, Any]] | None = None
    for inst in todo:
        if not port_free(inst.port):
            # Ours, already up (asked once, only then), or someone else's: never a
            # silent second instance.
            info = sup.info() if info is None else info
            if info.get(inst.name, {}).get("statename") in ("RUNNING", "STARTING"):
                continue
            raise ServiceError(
                f"{inst.name}: port {inst.port} on 127.0.0.1 is in use by another program",
                hint=f"stop it, or give this project another: [services.{inst.name}] port = N")
        sup.call("startProcess", inst.name, False)
        started.append(inst)
    return started


def _write_fast(path: Path, text: str) -> None:
    """Replace `path` atomically without fsync: a pid record the next boot makes stale
    anyway is not worth a disk flush on the way to a ready server."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)


def _wait(sup: Supervisor, w: Place, todo: list[Instance], timeout: float, say: Event) -> None:
    pending = {i.name: i for i in todo}
    deadline = time.monotonic() + timeout
    checked = started = time.monotonic()  # the supervisor's view first after 100 ms
    said = 0.0
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
        waited = now - started
        if waited > said + 2:  # progress while a slow server starts
            said = waited
            say(f"waiting for {', '.join(pending)} ({waited:.0f}s)")
        time.sleep(0.003)


def _failed(w: Place, name: str, why: str) -> ServiceError:
    tail = tail_lines(w.log(name), 15)
    return ServiceError(f"{name} {why}; its last log lines:\n" + ("\n".join(tail) or "(none)"),
                        hint=f"full log: zagi services logs {name}",
                        details={"service": name})


def down(project: Project, names: list[str] | None = None) -> list[str]:
    """Stop the services asked for (all by default); the supervisor goes with the last."""
    decl = declared(project)
    chosen = select(decl, names) if names else list(decl.services)
    w = where(project)
    if not w.base.is_dir():
        return []  # never started here
    with _project_lock(w, None):
        sup = supervisor(w)
        info = sup.info()
        if not info:
            return _recover(w)
        stopped = []
        for name in chosen:
            if info.get(name, {}).get("statename") in _UP:
                sup.call("stopProcess", name, True)
                stopped.append(name)
            (w.base / "run" / f"{name}.supervised").unlink(missing_ok=True)
        if not any(p["statename"] in _UP for p in sup.info().values()):
            sup.shutdown()
    return stopped


def status(project: Project) -> list[dict[str, Any]]:
    decl = declared(project)
    w = where(project)
    insts = instances(project, decl, None)
    info = supervisor(w).info()
    rows: list[dict[str, Any]] = []
    now = time.time()
    for name in decl.names:
        inst = insts.get(name)
        if inst is None:
            rows.append({"name": name, "version": None,
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
    select(declared(project), [name])
    return where(project).log(name)


def log_sizes(project: Project, names: list[str] | None) -> dict[str, int]:
    """Where each log (of `names`, default every declared service) ends now: `zagi up`
    in the foreground shows what follows."""
    w = where(project)
    out = {}
    for n in names if names is not None else list(declared(project).services):
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
    decl = declared(project)
    runnable = list(decl.services)
    sup = supervisor(where(project))
    running = [n for n, p in sup.info().items() if p["statename"] in ("RUNNING", "STARTING")]
    auto = autostart and decl.autostart
    names = runnable if auto else [n for n in running if n in runnable]
    if not names:
        if running:
            say("stopping " + ", ".join(running) + " (no longer in [services])")
            with _project_lock(where(project), None):
                sup.shutdown()
        return []
    up(project, out, names, say=say)
    return names
