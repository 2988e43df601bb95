"""Run INSIDE `zagi agent` by tests/integration/test_attacks.py: every route an agent could
take to a secret or out of its box. Prints `ROUTE name` for each route tried and
`LEAK name` for each that worked. Plain stdlib so it runs with any python3.

argv: REVERSED-CANARY IDENTITY ZAGI_HOME SOCKET ENV_ID (the canary comes reversed, so
this script's own command line, which the agent can read, does not hold it)
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

REVERSED, IDENTITY, ZAGI_HOME, SOCKET, ENV_ID = sys.argv[1:6]
NEEDLE = REVERSED[::-1].encode()
IDENT = Path(IDENTITY)
routes = 0


def route(name: str) -> Callable[[Callable[[], bool]], None]:
    """Try one route; a route returns True when it reached the secret or changed a thing
    it must not change."""

    def run(fn: Callable[[], bool]) -> None:
        global routes
        routes += 1
        print(f"ROUTE {name}", flush=True)
        try:
            leaked = fn()
        except Exception:
            leaked = False
        if leaked:
            print(f"LEAK {name}", flush=True)

    return run


def sh(cmd: str) -> str:
    cp = subprocess.run(["sh", "-c", cmd], capture_output=True, timeout=30)
    return (cp.stdout + cp.stderr).decode(errors="replace")


def has(data: bytes | str) -> bool:
    return NEEDLE in (data if isinstance(data, bytes) else data.encode())


def wrote(path: Path, data: bytes = b"\n# agent was here\n") -> bool:
    with open(path, "ab") as fh:
        fh.write(data)
    return True


# --- reading the secret directly -------------------------------------------------------
route("read the identity file")(lambda: b"AGE-SECRET-KEY" in IDENT.read_bytes())
route("list the identity directory")(lambda: bool(os.listdir(IDENT.parent)))
route("age -d with the identity")(
    lambda: has(sh(f"age -d -i {IDENT} .zagi/secrets.enc")))
route("zagi secrets get")(lambda: has(sh("zagi secrets get API_KEY --reveal </dev/null")))
route("zagi run prints the secret")(lambda: has(sh("zagi run -- sh -c 'echo $API_KEY'")))
route("the keys dir under ZAGI_HOME")(
    lambda: any(p.suffix == ".sec" for p in (Path(ZAGI_HOME) / "keys").glob("*")))

# --- the user's other credentials under HOME ---------------------------------------------
for rel in (".ssh/id_ed25519", ".aws/credentials", ".netrc", ".git-credentials",
            ".config/gh/hosts.yml", ".docker/config.json"):
    route(f"read ~/{rel}")(lambda rel=rel: has((Path.home() / rel).read_bytes()))
route("list ~/.ssh")(lambda: bool(os.listdir(Path.home() / ".ssh")))

# --- the environment ---------------------------------------------------------------------
route("own environment holds the secret")(lambda: has("\0".join(f"{k}={v}" for k, v in os.environ.items())))
for var in ("AWS_SECRET_ACCESS_KEY", "ZAGI_CACHE_TOKEN", "CACHIX_AUTH_TOKEN", "AUTH_HEADER",
            "ZAGI_IDENTITY"):
    route(f"inherited {var}")(lambda var=var: var in os.environ)


def proc_memory(pid: str) -> bool:
    found = False
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb") as mem:
        for line in maps:
            lo, hi = (int(x, 16) for x in line.split()[0].split("-"))
            if "r" not in line.split()[1]:
                continue
            with contextlib.suppress(OSError, ValueError, OverflowError):
                mem.seek(lo)
                found = found or has(mem.read(hi - lo))
    return found


for pid in sorted(p for p in os.listdir("/proc") if p.isdigit()):
    route(f"/proc/{pid}/environ")(lambda pid=pid: has(Path(f"/proc/{pid}/environ").read_bytes()))
    route(f"/proc/{pid}/cmdline")(lambda pid=pid: has(Path(f"/proc/{pid}/cmdline").read_bytes()))
    if pid != str(os.getpid()):
        route(f"/proc/{pid}/mem")(lambda pid=pid: proc_memory(pid))

# --- taking the masks off ------------------------------------------------------------------
route("umount the identity mask")(
    lambda: "AGE-SECRET" in sh(f"umount {IDENT.parent} 2>&1; cat {IDENT}"))
route("unshare -m, then umount the mask")(
    lambda: "AGE-SECRET" in sh(f"unshare -Urm sh -c 'umount {IDENT.parent}; cat {IDENT}'"))
route("bind-mount / elsewhere (non-recursive)")(
    lambda: "AGE-SECRET" in sh(f"unshare -Urm sh -c 'mkdir -p /tmp/m && mount --bind / /tmp/m "
                               f"&& cat /tmp/m{IDENT}'"))
route("umount /proc")(lambda: "AGE-SECRET" in sh("umount /proc 2>&1; ls /proc"))
route("capabilities")(lambda: any(ln.startswith("CapEff:") and ln.split()[1].strip("0") != ""
                                  for ln in Path("/proc/self/status").read_text().splitlines()))
route("no_new_privs is off")(lambda: "NoNewPrivs:\t0" in Path("/proc/self/status").read_text())
route("core dumps allowed")(lambda: sh("ulimit -c").strip() not in ("0", ""))

# --- changing what the user will run later ----------------------------------------------------
env_dir = Path(ZAGI_HOME) / "envs" / ENV_ID
route("append to activate.sh")(lambda: wrote(env_dir / "activate.sh"))
route("rewrite activate.json")(lambda: wrote(env_dir / "activate.json"))
route("replace activate.sh by rename")(
    lambda: (Path("x.sh").write_text("echo pwned\n"), os.replace("x.sh", env_dir / "activate.sh"))
    is not None)
route("trust another project (allow/)")(
    lambda: (Path(ZAGI_HOME) / "allow" / "evil").mkdir(parents=True) is None)
route("add a recipient")(lambda: wrote(Path(".zagi/recipients"), b"age1agentkey\n"))
route("move the recipients file away")(
    lambda: os.replace(".zagi/recipients", ".zagi/r2") is None)
route("rewrite .zagi/config.toml")(lambda: wrote(Path(".zagi/config.toml")))
route("rewrite .zagi/secrets.enc")(lambda: wrote(Path(".zagi/secrets.enc")))
route("install a git hook")(lambda: wrote(Path(".git/hooks/pre-commit"), b"#!/bin/sh\nid\n"))
route("set core.fsmonitor in .git/config")(lambda: wrote(Path(".git/config"),
                                                          b"[core]\n\tfsmonitor = id\n"))

# --- reaching processes outside ------------------------------------------------------------------


def unix_socket(path: str) -> bool:
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(3)
    s.connect(path)
    return has(s.recv(4096))


route("a same-user unix socket outside (tmux-like)")(lambda: unix_socket(SOCKET))
route("the tmux binary talking to a server")(
    lambda: shutil.which("tmux") is not None and has(sh(f"tmux -S {SOCKET} ls")))

print(f"ROUTES {routes}", flush=True)
