"""The boundary around `zagi agent`: bubblewrap (bwrap), driven from one place.

Why bubblewrap rather than our own unshare(2) calls: it is the sandbox Flatpak ships,
packaged everywhere, small C, and it does in one exec what a hand-rolled sandbox got
wrong for root: it always creates a user namespace (so even a root caller's agent has
no capability over the host, and every mount it inherits is locked: no umount of a mask,
no remount of a read-only bind), drops all capabilities, sets no_new_privs, and its
PID 1 is bwrap's own reaper, a fresh C process holding no decrypted secret and none of
the caller's environment (zagi execs bwrap with the agent's environment only).

What the agent sees (docs/security.md):
  /                    the host, as the user sees it, except:
  /proc, /dev          its own (own PID namespace; minimal devices, new devpts)
  /tmp, /dev/shm, $XDG_RUNTIME_DIR   empty and private: no same-user sockets (tmux,
                       ssh-agent, gpg-agent, D-Bus) from outside
  key directories      empty tmpfs masks (the age identity's dir, zagi's keys, config)
  an identity file     /dev/null over it when it lives elsewhere (e.g. in the project)
  $ZAGI_HOME           read-only (activation files, trust, GC roots)
  the project          writable, except .zagi/recipients, .zagi/config.toml,
                       .zagi/secrets.enc, .git/config and .git/hooks (read-only)
  the network          the host's, or none (`--net none`: loopback only)
  the terminal         shared (Ctrl-C reaches the agent), but a seccomp filter refuses
                       TIOCSTI and TIOCLINUX, so it cannot type into the user's shell
"""

from __future__ import annotations

import os
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from zagi.core import proc
from zagi.core.errors import IsolationError

__all__ = ["NETS", "Policy", "argv", "check", "seccomp_fd", "seccomp_program"]

NETS = ("host", "none")
_REFUSE = "zagi refuses to start an agent without isolation"
# Files in a project an agent must not change: who can read the secrets, the secrets
# themselves, which caches to trust, and what git runs on the user's next commit.
PROTECTED = (".zagi/recipients", ".zagi/config.toml", ".zagi/secrets.enc", ".git/config",
             ".git/hooks")


@dataclass
class Policy:
    project: Path
    cwd: Path
    mask_dirs: list[Path] = field(default_factory=list)  # replaced by empty tmpfs
    mask_files: list[Path] = field(default_factory=list)  # replaced by /dev/null
    read_only: list[Path] = field(default_factory=list)  # bound read-only over themselves
    keep: list[Path] = field(default_factory=list)  # writable dirs under /tmp to keep
    tools: list[Path] = field(default_factory=list)  # dirs under /tmp to keep, read-only
    net: str = "host"


# --- seccomp: refuse ioctl(TIOCSTI / TIOCLINUX) -------------------------------------
# A classic BPF program over struct seccomp_data {int nr; u32 arch; u64 ip; u64 args[6]},
# written out here because libseccomp's Python binding is not on PyPI. Unknown
# architectures are let through (the filter is defence in depth; the namespaces are the
# boundary); x32 system calls are refused outright, as Flatpak does.
_LD, _JEQ, _JGE, _RET = 0x20, 0x15, 0x35, 0x06  # BPF_LD|W|ABS, JMP|JEQ|K, JMP|JGE|K, RET|K
_ALLOW, _EPERM = 0x7FFF0000, 0x00050000 | 1  # SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO | EPERM
_ARCHES = {0xC000003E: 16, 0xC00000B7: 29}  # AUDIT_ARCH_X86_64 / AARCH64 -> __NR_ioctl
_X32 = 0x40000000
_TIOCSTI, _TIOCLINUX = 0x5412, 0x541C


def seccomp_program() -> bytes:
    prog: list[tuple[int, str | int, str | int, int]] = []  # (code, jt, jf, k); labels are str
    labels: dict[str, int] = {}

    def op(code: int, k: int, jt: str | int = 0, jf: str | int = 0) -> None:
        prog.append((code, jt, jf, k))

    def label(name: str) -> None:
        labels[name] = len(prog)

    op(_LD, 4)  # arch
    for arch in _ARCHES:
        op(_JEQ, arch, jt=f"arch{arch}")
    op(_RET, _ALLOW)
    for arch, nr in _ARCHES.items():
        label(f"arch{arch}")
        op(_LD, 0)  # nr
        if arch == 0xC000003E:
            op(_JGE, _X32, jt="deny")
        op(_JEQ, nr, jt="ioctl", jf="allow")
    label("ioctl")
    op(_LD, 24)  # args[1], low 32 bits (the kernel reads the ioctl cmd as unsigned int)
    op(_JEQ, _TIOCSTI, jt="deny")
    op(_JEQ, _TIOCLINUX, jt="deny", jf="allow")
    label("allow")
    op(_RET, _ALLOW)
    label("deny")
    op(_RET, _EPERM)

    def rel(at: int, target: str | int) -> int:
        return target if isinstance(target, int) else labels[target] - at - 1

    return b"".join(struct.pack("=HBBI", code, rel(i, jt), rel(i, jf), k)
                    for i, (code, jt, jf, k) in enumerate(prog))


def seccomp_fd() -> int:
    """An inheritable fd holding the filter, for `bwrap --seccomp FD` across our exec."""
    fd = os.memfd_create("zagi-seccomp", 0)  # no MFD_CLOEXEC: bwrap reads it after exec
    os.write(fd, seccomp_program())
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _under(path: Path, base: Path) -> bool:
    return path == base or base in path.parents


def argv(policy: Policy, command: Sequence[str], seccomp: int | None = None) -> list[str]:
    """The bwrap command line for `command` under `policy` (order matters: later mounts
    land on top of earlier ones)."""
    out = ["bwrap", *(["--seccomp", str(seccomp)] if seccomp is not None else []),
           "--die-with-parent", "--unshare-user", "--unshare-pid", "--unshare-ipc",
           "--unshare-uts", "--unshare-cgroup-try", "--cap-drop", "ALL",
           "--dev-bind", "/", "/", "--proc", "/proc", "--dev", "/dev",
           # mount points inside the sandbox, not temp files of ours
           "--tmpfs", "/tmp", "--tmpfs", "/dev/shm"]  # noqa: S108
    runtime = os.environ.get("XDG_RUNTIME_DIR") or f"/run/user/{os.getuid()}"
    if os.path.isdir(runtime):
        out += ["--tmpfs", runtime]
    if policy.net == "none":
        out.append("--unshare-net")
    tmp = Path("/tmp")  # noqa: S108 - the sandbox's mount point
    for d in dict.fromkeys(policy.tools):  # programs it runs (PATH, zagi itself): read-only
        if _under(d, tmp) and d.is_dir():
            out += ["--ro-bind", str(d), str(d)]
    for d in dict.fromkeys([policy.project, *policy.keep]):  # writable, on top of the above
        if _under(d, tmp) and d.exists():
            out += ["--bind", str(d), str(d)]
    for p in policy.read_only:
        if p.exists():
            out += ["--ro-bind", str(p), str(p)]
    for d in policy.mask_dirs:
        if d.is_dir():
            out += ["--perms", "0700", "--tmpfs", str(d)]
    for f in policy.mask_files:
        if f.exists():
            out += ["--ro-bind", "/dev/null", str(f)]
    out += ["--chdir", str(policy.cwd), "--", *command]
    return out


def check(policy: Policy) -> None:
    """Start `true` under the same policy; raise IsolationError (nothing started) when
    bwrap is missing or the kernel refuses a namespace."""
    import sys

    if not sys.platform.startswith("linux"):  # macOS has no namespaces for bubblewrap
        raise IsolationError(f"zagi agent is not supported on this system ({sys.platform}): "
                             "its isolation is Linux namespaces (bubblewrap); nothing was "
                             "started", exit_code=2,
                             hint="run the agent in a Linux VM or container with zagi inside")
    if proc.which("bwrap") is None:
        raise IsolationError(f"bubblewrap (bwrap) is not installed; {_REFUSE}",
                             hint="install it: sudo apt-get install bubblewrap "
                                  "(Fedora/Arch: bubblewrap; NixOS: pkgs.bubblewrap)")
    if policy.net not in NETS:
        raise IsolationError(f"--net {policy.net!r}: expected one of {', '.join(NETS)}")
    res = proc.run(argv(policy, ["true"]), timeout=30)
    if not res.ok:
        why = (res.stderr.strip().splitlines() or ["no reason given"])[-1]
        raise IsolationError(
            f"the kernel would not isolate the agent ({why}); {_REFUSE}",
            hint="user namespaces may be disabled (sysctl kernel.unprivileged_userns_clone, "
                 "user.max_user_namespaces, or an AppArmor userns restriction); enable them")
