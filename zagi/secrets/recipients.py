"""`.zagi/recipients`: the public keys the secrets are encrypted to (committed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zagi.core.errors import BadInput
from zagi.core.fsutil import atomic_write

__all__ = ["parse_recipient", "read_recipients", "write_recipients"]


def read_recipients(path: Path) -> list[str]:
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        return []
    return [ln.split("#", 1)[0].strip() for ln in lines if ln.split("#", 1)[0].strip()]


def parse_recipient(key: str, where: str) -> Any:
    from pyrage import RecipientError, ssh, x25519

    try:
        if key.startswith("age1"):
            return x25519.Recipient.from_str(key)
        if key.startswith(("ssh-ed25519 ", "ssh-rsa ")):
            return ssh.Recipient.from_str(key)
    except RecipientError:
        pass
    raise BadInput(f"{key[:24]}...: not an age (age1...) or ssh-ed25519/ssh-rsa public key",
                   file=where)


def write_recipients(path: Path, keys: list[str]) -> None:
    atomic_write(path, "# Who can decrypt .zagi/secrets.enc (one public key per line).\n"
                       "# Manage with `zagi secrets recipients add|rm KEY`.\n"
                 + "".join(k + "\n" for k in keys))
