"""The user's age identity (never in the repo): where it is, creating it, loading it.

$ZAGI_IDENTITY, else <config>/zagi/identity.txt (0600). `zagi agent` masks the
directories listed by key_dirs().
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from zagi.core import layout
from zagi.core.errors import BadInput, ZagiError
from zagi.core.fsutil import atomic_write

__all__ = ["generate_identity", "identities", "identity_path", "key_dirs", "load_identity_text",
           "public_key_of"]


def identity_path() -> Path:
    """The user's age identity: $ZAGI_IDENTITY, else <config>/zagi/identity.txt (0600)."""
    override = os.environ.get("ZAGI_IDENTITY")
    # Absolute, so that a relative override names one file wherever zagi looks from
    # (the agent sandbox masks it by path).
    return Path(override).absolute() if override else layout.default_identity()


def key_dirs() -> list[Path]:
    """Directories holding key material that `zagi agent` masks."""
    dirs = [layout.config_dir(), layout.keys_dir(), identity_path().parent]
    # A directory that holds the project (an identity kept in the project root, or above
    # it) cannot be masked without hiding the project; the sandbox masks that file alone.
    here = Path.cwd().resolve()
    dirs = [d for d in dirs if not (d.resolve() == here or d.resolve() in here.parents)]
    return list(dict.fromkeys(d for d in dirs if d.is_dir()))


def generate_identity() -> tuple[str, bool]:
    """Create the identity if missing; return (public key, created?)."""
    from pyrage import x25519

    path = identity_path()
    if path.exists():
        return public_key_of(load_identity_text(path)), False
    ident = x25519.Identity.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    pub = str(ident.to_public())
    atomic_write(path, f"# zagi age identity (keep private)\n# public key: {pub}\n{ident}\n",
                 mode=0o600)
    return pub, True


def load_identity_text(path: Path) -> str:
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ZagiError(f"no identity at {path}", hint="run `zagi secrets init`") from None
    except PermissionError:
        raise ZagiError(f"cannot read the identity at {path} (masked in an agent sandbox?)") from None
    keys = [ln.strip() for ln in text.splitlines() if ln.strip().startswith("AGE-SECRET-KEY-")]
    if not keys:
        raise BadInput("no AGE-SECRET-KEY line; expected an age identity", file=str(path))
    return keys[0]


def public_key_of(secret_key: str) -> str:
    from pyrage import IdentityError, x25519

    try:
        return str(x25519.Identity.from_str(secret_key).to_public())
    except IdentityError:
        raise BadInput("not a valid age identity", file=str(identity_path())) from None


def identities() -> list[Any]:
    from pyrage import x25519

    return [x25519.Identity.from_str(load_identity_text(identity_path()))]
