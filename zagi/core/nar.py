"""Nix's binary-cache formats: NAR serialisation, nix32, narinfo, and ed25519 signatures.

Each piece is checked byte-for-byte against the real Nix on the machine in
tests/integration/test_nar.py (see ../shared/reference/nix-binary-cache.md for the rules).
"""

from __future__ import annotations

import base64
import os
import stat
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from zagi.core.errors import BadInput, ZagiError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

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


# --- narinfo -------------------------------------------------------------------


@dataclass
class NarInfo:
    store_path: str
    url: str
    nar_hash: str  # sha256:<nix32>
    nar_size: int
    compression: str = "zstd"
    file_hash: str | None = None
    file_size: int | None = None
    references: list[str] = field(default_factory=list)  # base names, sorted
    deriver: str | None = None
    sigs: list[str] = field(default_factory=list)
    ca: str | None = None

    def render(self) -> str:
        """Field order and spacing as Nix writes them; 'References: ' keeps its space."""
        lines = [f"StorePath: {self.store_path}", f"URL: {self.url}",
                 f"Compression: {self.compression}"]
        if self.file_hash:
            lines.append(f"FileHash: {self.file_hash}")
        if self.file_size is not None:
            lines.append(f"FileSize: {self.file_size}")
        lines += [f"NarHash: {self.nar_hash}", f"NarSize: {self.nar_size}",
                  "References: " + " ".join(sorted(self.references))]
        if self.deriver:
            lines.append(f"Deriver: {self.deriver}")
        lines += [f"Sig: {s}" for s in self.sigs]
        if self.ca:
            lines.append(f"CA: {self.ca}")
        return "\n".join(lines) + "\n"

    def fingerprint(self, store_dir: str = "/nix/store") -> bytes:
        refs = ",".join(f"{store_dir}/{r}" for r in sorted(self.references))
        return f"1;{self.store_path};{self.nar_hash};{self.nar_size};{refs}".encode()

    @classmethod
    def parse(cls, text: str, where: str) -> NarInfo:
        fields: dict[str, list[str]] = {}
        for n, line in enumerate(text.splitlines(), start=1):
            key, sep, value = line.partition(": ")
            if not sep and line.endswith(":"):
                key, value = line[:-1], ""
            elif not sep:
                raise BadInput(f"line {n} is not 'Key: value'", file=where, line=n)
            fields.setdefault(key, []).append(value)
        try:
            info = cls(
                store_path=fields["StorePath"][0], url=fields["URL"][0],
                nar_hash=fields["NarHash"][0], nar_size=int(fields["NarSize"][0]),
                compression=fields.get("Compression", ["bzip2"])[0],
                file_hash=fields.get("FileHash", [None])[0],
                file_size=int(fields["FileSize"][0]) if "FileSize" in fields else None,
                references=[r for r in fields.get("References", [""])[0].split() if r],
                deriver=fields.get("Deriver", [None])[0], sigs=fields.get("Sig", []),
                ca=fields.get("CA", [None])[0])
        except (KeyError, ValueError, IndexError) as exc:
            raise BadInput(f"not a valid narinfo ({exc})", file=where) from None
        if not info.store_path.startswith("/nix/store/") or not info.nar_hash.startswith("sha256:"):
            raise BadInput("not a valid narinfo (StorePath/NarHash)", file=where)
        return info


# --- signing keys (Nix's format: NAME:base64) ----------------------------------


@dataclass(frozen=True)
class SecretKey:
    name: str
    seed: bytes  # 32 bytes

    @classmethod
    def generate(cls, name: str) -> SecretKey:
        return cls(name, os.urandom(32))

    @classmethod
    def parse(cls, text: str, where: str) -> SecretKey:
        name, _, b64 = text.strip().partition(":")
        try:
            raw = base64.b64decode(b64, validate=True)
        except ValueError:
            raw = b""
        if not name or len(raw) != 64:
            raise BadInput("not a Nix secret key (NAME:base64 of 64 bytes)", file=where)
        return cls(name, raw[:32])

    def _key(self) -> Ed25519PrivateKey:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        return Ed25519PrivateKey.from_private_bytes(self.seed)

    def public_bytes(self) -> bytes:
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        pub: bytes = self._key().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return pub

    def render(self) -> str:
        return f"{self.name}:{base64.b64encode(self.seed + self.public_bytes()).decode()}"

    def public(self) -> str:
        return f"{self.name}:{base64.b64encode(self.public_bytes()).decode()}"

    def sign(self, fingerprint: bytes) -> str:
        sig: bytes = self._key().sign(fingerprint)
        return f"{self.name}:{base64.b64encode(sig).decode()}"


def verify(public_keys: list[str], fingerprint: bytes, sigs: list[str]) -> str | None:
    """The name of the trusted key that signed `fingerprint`, or None."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    keys = {}
    for pk in public_keys:
        name, _, b64 = pk.partition(":")
        try:
            keys[name] = Ed25519PublicKey.from_public_bytes(base64.b64decode(b64))
        except ValueError:
            continue
    for sig in sigs:
        name, _, b64 = sig.partition(":")
        if name in keys:
            try:
                keys[name].verify(base64.b64decode(b64), fingerprint)
                return name
            except (InvalidSignature, ValueError):
                continue
    return None
