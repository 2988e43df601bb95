"""`.zagi/recipients`: the public keys the secrets are encrypted to (committed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zagi.core import layout
from zagi.core.errors import BadInput, ZagiError
from zagi.core.fsutil import atomic_write, read_bounded

MAX_RECIPIENTS_BYTES = 1 << 20

__all__ = ["confirm", "confirmed", "parse_recipient", "read_recipients", "require_confirmed",
           "unconfirmed", "write_recipients"]


def read_recipients(path: Path) -> list[str]:
    if not path.exists() and not path.is_symlink():
        return []
    try:
        lines = read_bounded(path, MAX_RECIPIENTS_BYTES).decode().splitlines()
    except UnicodeDecodeError:
        raise BadInput("not UTF-8 text; expected one public key per line", file=str(path)) from None
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


# --- confirmation: a recipient is the user's decision, not the file's ------------------
# The recipients file lives in the repo, where anyone (a teammate's commit, an agent in
# the project) can add a line. zagi encrypts only to keys the user has confirmed for this
# project: those they added with zagi, or confirmed after seeing them.


def confirmed(root: Path) -> set[str]:
    path = layout.confirmed_recipients(root)
    if not path.exists():
        return set()
    return {ln.strip() for ln in read_bounded(path, MAX_RECIPIENTS_BYTES).decode().splitlines()
            if ln.strip() and not ln.startswith("#")}


def confirm(root: Path, keys: list[str]) -> None:
    for k in keys:
        parse_recipient(k, "the command line")
    have = confirmed(root)
    if set(keys) <= have:
        return
    path = layout.confirmed_recipients(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, f"# recipients you confirmed for {root}\n"
                 + "".join(k + "\n" for k in sorted(have | set(keys))), mode=0o600)


def unconfirmed(root: Path, keys: list[str]) -> list[str]:
    have = confirmed(root)
    return [k for k in keys if k not in have]


def require_confirmed(root: Path, keys: list[str], where: Path) -> None:
    """Refuse to encrypt to a key the user has not confirmed (nothing is written)."""
    new = unconfirmed(root, keys)
    if new:
        listed = "\n".join(f"  {k}" for k in new)
        raise ZagiError(
            f"{where} lists {len(new)} recipient(s) you have not confirmed; zagi will not "
            f"encrypt your secrets to them:\n{listed}",
            hint="if you know whose they are: `zagi secrets recipients confirm KEY...` (the keys "
                 "above); if not, remove those lines from the file",
            details={"unconfirmed": new})
