"""Writing files so that a reader never sees half of one, and reading files that a cloned
repository may have planted (FIFOs, devices, huge files) without hanging."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from zagi.core.errors import BadInput, ZagiError
from zagi.core.layout import read_checked

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

    A FIFO, a device (/dev/zero) or a huge file planted in a cloned repo fails at once
    instead of hanging or exhausting memory (the rule: zagi.core.layout.read_checked).
    """
    data, why = read_checked(path, max_bytes)
    if data is None:
        raise BadInput("does not exist" if why == "missing" else why,
                       hint=hint if why == "missing" else None, file=str(path))
    return data
