"""Signing keys in Nix's format (NAME:base64) and ed25519 signatures of narinfo
fingerprints."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from zagi.core.errors import BadInput

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

__all__ = ["SecretKey", "verify"]


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
