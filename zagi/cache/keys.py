"""Signing keys for binary caches, kept under $ZAGI_HOME/keys (secret 0600, public beside)."""

from __future__ import annotations

from pathlib import Path

from zagi.core import layout
from zagi.core.errors import BadInput, ZagiError
from zagi.core.fsutil import atomic_write
from zagi.formats.keys import SecretKey

__all__ = ["generate", "load", "public_keys"]


def generate(name: str) -> tuple[Path, str]:
    """Create key NAME; (secret key file, public key)."""
    if not name.replace("-", "").replace(".", "").isalnum():
        raise BadInput(f"{name!r}: a key name is letters, digits, '-' and '.' (e.g. cache.example-1)")
    kdir = layout.keys_dir()
    path = kdir / f"{name}.sec"
    if path.exists():
        raise BadInput(f"{path} already exists")
    key = SecretKey.generate(name)
    kdir.mkdir(parents=True, exist_ok=True)
    kdir.chmod(0o700)
    atomic_write(path, key.render() + "\n", mode=0o600)
    atomic_write(kdir / f"{name}.pub", key.public() + "\n")
    return path, key.public()


def load(name: str | None) -> SecretKey:
    """The signing key NAME, or the only one there is."""
    kdir = layout.keys_dir()
    keys = sorted(kdir.glob("*.sec")) if kdir.is_dir() else []
    if name:
        keys = [k for k in keys if k.stem == name]
    if not keys:
        raise ZagiError("no signing key" + (f" named {name}" if name else ""),
                        hint="create one with `zagi keys generate NAME`")
    if len(keys) > 1 and not name:
        raise BadInput(f"several signing keys ({', '.join(k.stem for k in keys)}); pick one with --key")
    return SecretKey.parse(keys[0].read_text(), str(keys[0]))


def public_keys() -> list[str]:
    """The public halves of this user's own keys (trusted for reading their own caches)."""
    kdir = layout.keys_dir()
    return sorted(p.read_text().strip() for p in kdir.glob("*.pub")) if kdir.is_dir() else []
