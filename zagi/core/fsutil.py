"""Writing files so that a reader never sees half of one, and reading files that a cloned
repository may have planted (FIFOs, devices, huge files) without hanging."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from zagi.core.errors import BadInput, ZagiError

__all__ = ["atomic_write", "read_bounded"]


def atomic_write(path: Path, data: str | bytes, mode: int = 0o644) -> None:
    """Write `data` to `path` via temp file + fsync + rename (+ fsync of the dir).

    A crash leaves either the old file or the new one, never a mix; the temp file
    lives in the same directory so the rename cannot cross filesystems. OS errors
    (read-only dir, a directory in the way) become a ZagiError naming the path.
    """
    try:
        _atomic_write(path, data.encode() if isinstance(data, str) else data, mode)
    except OSError as exc:
        raise ZagiError(f"cannot write {path}: {exc.strerror or exc}",
                        hint="check that the directory is writable and nothing else "
                             "(a file, a directory) is in the way") from None


def _atomic_write(path: Path, raw: bytes, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def read_bounded(path: Path, max_bytes: int, hint: str | None = None) -> bytes:
    """A regular file's bytes, at most `max_bytes`; anything else is BadInput naming it.

    Opened with O_NONBLOCK and checked with fstat before reading, so a FIFO, a device
    (/dev/zero) or a huge file planted in a cloned repo fails at once instead of
    hanging or exhausting memory.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise BadInput("does not exist", hint=hint, file=str(path)) from None
    except OSError as exc:
        raise BadInput(f"cannot read it: {exc.strerror or exc}", file=str(path)) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise BadInput("not a regular file (a FIFO, device or directory); refusing to "
                           "read it", file=str(path))
        if st.st_size > max_bytes:
            raise BadInput(f"implausibly large ({st.st_size} bytes; at most {max_bytes})",
                           file=str(path))
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(max_bytes + 1)
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise BadInput(f"implausibly large (more than {max_bytes} bytes)", file=str(path))
    return data
