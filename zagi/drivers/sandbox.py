"""Kernel isolation for `zagi agent`: namespaces and mounts through unshare(2)/mount(2).

No process is started here (that is zagi.core.proc.run_isolated); this module only
changes the calling process: a new mount namespace (with private propagation) and a
new PID namespace — plus a user namespace when not root — then empty tmpfs mounts
over the directories holding key material. Any failure raises, so an agent never
silently runs without isolation.
"""

from __future__ import annotations

import ctypes
import errno
import os
from pathlib import Path

from zagi.core.errors import IsolationError

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
MS_NOSUID, MS_NODEV, MS_NOEXEC = 0x2, 0x4, 0x8
MS_REC, MS_PRIVATE = 0x4000, 0x40000


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _check(rc: int, what: str) -> None:
    if rc != 0:
        err = ctypes.get_errno()
        raise IsolationError(f"{what} failed: {os.strerror(err)}",
                        hint=_HINT if err in (errno.EPERM, errno.EINVAL, errno.ENOSPC) else None)


_HINT = ("the kernel does not allow this user to create namespaces (user namespaces may be "
         "disabled: sysctl kernel.unprivileged_userns_clone / user.max_user_namespaces); run as "
         "root, or enable them. zagi refuses to start an agent without isolation.")


def _write(path: str, text: str) -> None:
    with open(path, "w") as fh:
        fh.write(text)


def enter(masks: list[Path]) -> None:
    """Unshare mount + PID namespaces (and a user namespace if not root), mask `masks`.

    The caller's next fork() becomes PID 1 of the new PID namespace.
    """
    libc = _libc()
    uid, gid = os.getuid(), os.getgid()
    flags = CLONE_NEWNS | CLONE_NEWPID | (0 if os.geteuid() == 0 else CLONE_NEWUSER)
    _check(libc.unshare(flags), "unshare(mount, pid" + ("" if os.geteuid() == 0 else ", user") + ")")
    if flags & CLONE_NEWUSER:
        # Map our own ids so files stay ours; setgroups must be denied before gid_map.
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"{uid} {uid} 1")
        _write("/proc/self/gid_map", f"{gid} {gid} 1")
    _check(libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None),
           "making mounts private")
    for d in masks:
        _check(libc.mount(b"tmpfs", str(d).encode(), b"tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                          b"mode=0700,size=64k"), f"masking {d}")


def mount_proc() -> None:
    """In the new PID namespace (after fork): a /proc that shows only its own processes."""
    _check(_libc().mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None),
           "mounting /proc")
