"""Nix's archive format (NAR) and its base32 (nix32); narinfo.py and keys.py hold the rest
of the binary-cache formats.

Each piece is checked byte-for-byte against the real Nix on the machine in
tests/integration/test_nar.py (see ../shared/reference/nix-binary-cache.md for the rules).
"""

from __future__ import annotations

import os
import stat
import struct
from collections.abc import Iterator
from pathlib import Path

from zagi.core.errors import ZagiError

__all__ = ["NIX32", "batched", "dump", "nix32", "nix32_decode"]

NIX32 = "0123456789abcdfghijklmnpqrsvwxyz"  # no e, o, u, t
_CHUNK = 1 << 20


# --- nix32 ---------------------------------------------------------------------


def nix32(data: bytes) -> str:
    """Nix's base32: 5-bit groups taken from the end, least-significant bits first."""
    length = (len(data) * 8 - 1) // 5 + 1 if data else 0
    out = []
    for n in range(length - 1, -1, -1):
        b = n * 5
        i, j = divmod(b, 8)
        c = data[i] >> j
        if i + 1 < len(data):
            c |= data[i + 1] << (8 - j)
        out.append(NIX32[c & 0x1F])
    return "".join(out)


def nix32_decode(text: str) -> bytes:
    size = len(text) * 5 // 8
    out = bytearray(size)
    for n, ch in enumerate(reversed(text)):
        digit = NIX32.find(ch)
        if digit < 0:
            raise ValueError(f"{ch!r} is not a nix32 digit")
        b = n * 5
        i, j = divmod(b, 8)
        if i < size:
            out[i] |= (digit << j) & 0xFF
        if i + 1 < size:
            out[i + 1] |= digit >> (8 - j)
        elif digit >> (8 - j) and i + 1 >= size and j > 3:
            raise ValueError("nix32 string has bits beyond its length")
    return bytes(out)


# --- NAR -----------------------------------------------------------------------


def _str(b: bytes) -> bytes:
    pad = (8 - len(b) % 8) % 8
    return struct.pack("<Q", len(b)) + b + b"\0" * pad


def batched(pieces: Iterator[bytes], size: int = 1 << 20) -> Iterator[bytes]:
    """The same bytes in pieces of at least `size` (but the last): a NAR of many small
    files comes as many small pieces, and each costs a call to hash and compress."""
    buf = bytearray()
    for piece in pieces:
        if len(piece) >= size and not buf:
            yield piece
            continue
        buf += piece
        if len(buf) >= size:
            yield bytes(buf)
            buf.clear()
    if buf:
        yield bytes(buf)


def dump(path: Path) -> Iterator[bytes]:
    """The NAR serialisation of `path` (file, directory or symlink), streamed in chunks.

    Only the owner-execute bit counts; no times, no owners; entries sorted by raw bytes.
    """
    yield _str(b"nix-archive-1")
    yield from _node(os.fsencode(path))


def _node(p: bytes) -> Iterator[bytes]:
    st = os.lstat(p)
    yield _str(b"(") + _str(b"type")
    if stat.S_ISLNK(st.st_mode):
        yield _str(b"symlink") + _str(b"target") + _str(os.readlink(p))
    elif stat.S_ISREG(st.st_mode):
        yield _str(b"regular")
        if st.st_mode & stat.S_IXUSR:
            yield _str(b"executable") + _str(b"")
        yield _str(b"contents") + struct.pack("<Q", st.st_size)
        size = 0
        with open(p, "rb") as fh:
            while chunk := fh.read(_CHUNK):
                size += len(chunk)
                yield chunk
        if size != st.st_size:
            raise ZagiError(f"{os.fsdecode(p)} changed while being read")
        yield b"\0" * ((8 - size % 8) % 8)
    elif stat.S_ISDIR(st.st_mode):
        yield _str(b"directory")
        for name in sorted(os.listdir(p)):
            yield _str(b"entry") + _str(b"(") + _str(b"name") + _str(name) + _str(b"node")
            yield from _node(p + b"/" + name)
            yield _str(b")")
    else:
        raise ZagiError(f"{os.fsdecode(p)}: not a file, directory or symlink; cannot archive")
    yield _str(b")")
