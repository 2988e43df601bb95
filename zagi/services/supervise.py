"""The supervisor: one supervisord per project, driven over its unix socket.

Why supervisord: it is the well-kept process supervisor on PyPI (pure Python, so it
installs with zagi and needs nothing from the env), and it already has what services
need: restart on crash with backoff and a retry limit (startretries), a stop signal per
program then SIGKILL after a bound (stopwaitsecs), size-bounded rotated logs, dropping
root for each program (user=), and an XML-RPC API to start, stop and inspect. zagi writes
its config, starts it through the subprocess chokepoint, and talks to it; it never forks
servers itself.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zagi.core import proc
from zagi.core.errors import ZagiError
from zagi.core.fsutil import atomic_write


@dataclass(frozen=True)
class Program:
    name: str
    argv: list[str]
    stop_signal: str
    log: Path
    env: dict[str, str]
    user: str | None  # drop root to this user


@dataclass(frozen=True)
class Supervisor:
    base: Path  # config, pid file and its own log
    socket: Path

    @property
    def conf(self) -> Path:
        return self.base / "supervisord.conf"

    @property
    def pidfile(self) -> Path:
        return self.base / "supervisord.pid"

    def conf_differs(self, programs: list[Program]) -> bool:
        """Whether the config for `programs` differs from the one written (a running
        supervisord then restarts to read it)."""
        try:
            return self.conf.read_text() != render(self, programs)
        except OSError:
            return True

    def write_conf(self, programs: list[Program]) -> None:
        write_if_changed(self.conf, render(self, programs), 0o600)

    def pid(self) -> int | None:
        """supervisord's pid when it is running (a stale pid file is not)."""
        try:
            pid = int(self.pidfile.read_text().strip())
            os.kill(pid, 0)
        except (OSError, ValueError):
            return None
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return pid  # not Linux: trust the pid file
        return pid if b"supervisor" in cmdline else None

    def start(self) -> None:
        """Start supervisord (it daemonizes once its socket is listening)."""
        import importlib.util

        # Only what it needs: never the user's environment (tokens) in the servers'.
        # PYTHONPATH: where supervisor is installed, for an interpreter run with one.
        spec = importlib.util.find_spec("supervisor")
        where = Path(next(iter(spec.submodule_search_locations or []))).parent if spec else None
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": str(self.base),
               **({"PYTHONPATH": str(where)} if where else {})}
        res = proc.run([sys.executable, "-m", "supervisor.supervisord", "-c", str(self.conf)],
                       env=env, inherit_env=False, timeout=30)
        if not res.ok:
            raise ZagiError("the service supervisor did not start",
                            hint=(res.stderr or res.stdout).strip()[-2000:] or None)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.socket.exists() and self.pid() is not None:
                return
            time.sleep(0.005)
        raise ZagiError("the service supervisor did not come up",
                        hint=f"its log: {self.base / 'supervisord.log'}")

    def call(self, method: str, *args: Any) -> Any:
        from zagi.services import rpc

        try:
            return rpc.call(str(self.socket), method, *args)
        except rpc.Fault as exc:
            raise ZagiError(f"the service supervisor refused {method}: {exc.message}") from None
        except OSError as exc:
            raise ZagiError(f"the service supervisor is not answering ({exc})",
                            hint="`zagi down` then `zagi up` recovers") from None

    def info(self) -> dict[str, dict[str, Any]]:
        """name -> supervisord's process info, {} when it is not running."""
        if self.pid() is None:
            return {}
        return {p["name"]: p for p in self.call("getAllProcessInfo")}

    def shutdown(self) -> None:
        pid = self.pid()
        if pid is None:
            return
        try:
            self.call("shutdown")
        except ZagiError:
            os.kill(pid, 15)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and self.pid() is not None:
            time.sleep(0.01)


def write_if_changed(path: Path, text: str, mode: int) -> None:
    """Atomically, and only when different: an unchanged config costs no fsync."""
    try:
        if path.read_text() == text:
            return
    except OSError:
        pass
    atomic_write(path, text, mode=mode)


def _quote(arg: str) -> str:
    # supervisord splits `command` with shlex; quote what needs it.
    import shlex

    return shlex.quote(arg)


def render(sup: Supervisor, programs: list[Program]) -> str:
    lines = [
        "; written by zagi (zagi/services/supervise.py); regenerated on every `zagi up`",
        "[unix_http_server]", f"file={sup.socket}", "chmod=0700", "",
        "[supervisord]", f"pidfile={sup.pidfile}", f"logfile={sup.base / 'supervisord.log'}",
        "logfile_maxbytes=1MB", "logfile_backups=1", "loglevel=info",
        f"directory={sup.base}", f"childlogdir={sup.base}", "nocleanup=true",
        "minfds=1024", "minprocs=200", "",
        "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface", "",
        "[supervisorctl]", f"serverurl=unix://{sup.socket}", "",
    ]
    for p in programs:
        env = ",".join(f'{k}="{v}"' for k, v in sorted(p.env.items()))
        lines += [
            f"[program:{p.name}]",
            "command=" + " ".join(_quote(a) for a in p.argv),
            "autostart=false",  # zagi starts the ones asked for
            "autorestart=true",  # a crash restarts it ...
            "startsecs=1", "startretries=5",  # ... with backoff, FATAL after 5 quick failures
            f"stopsignal={p.stop_signal}", "stopwaitsecs=20",  # then SIGKILL
            "stopasgroup=true", "killasgroup=true",
            "redirect_stderr=true", f"stdout_logfile={p.log}",
            "stdout_logfile_maxbytes=2MB", "stdout_logfile_backups=2",
            f"environment={env}",
        ]
        if p.user:
            lines.append(f"user={p.user}")
        lines.append("")
    return "\n".join(lines)
