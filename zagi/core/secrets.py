"""Secrets: `.zagi/secrets.enc` (age, committed), `.zagi/recipients`, the user's identity.

The plaintext exists only in memory: decrypted from the file, handed to a process's
environment by `zagi run`, never written, logged, or put in an error message. Errors
name files, keys and secret *names*, never values.

Plaintext format (inside the age file): one `NAME=value` per line; zagi writes values
JSON-quoted (`API_KEY="sk_..."`, so newlines survive); unquoted values, blank lines,
`#` comments and `export ` prefixes are read too, as a user might write with `age`.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zagi.core.errors import BadInput, ZagiError
from zagi.core.fsutil import atomic_write
from zagi.core.paths import config_dir, zagi_home

SECRETS_FILE = "secrets.enc"
RECIPIENTS_FILE = "recipients"
AGE_HEADER = b"age-encryption.org/v1\n"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$")


def identity_path() -> Path:
    """The user's age identity: $ZAGI_IDENTITY, else <config>/zagi/identity.txt (0600)."""
    override = os.environ.get("ZAGI_IDENTITY")
    return Path(override) if override else config_dir() / "identity.txt"


def key_dirs() -> list[Path]:
    """Directories holding key material that `zagi agent` masks."""
    dirs = [config_dir(), zagi_home() / "keys", identity_path().parent]
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


def parse_plaintext(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    # Only "\n" ends a line: splitlines() would also split at U+0085 or U+2028 in a value.
    for n, raw in enumerate(text.replace("\r\n", "\n").split("\n"), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = _LINE.match(raw)
        if not m:
            raise BadInput(f"line {n} of the decrypted secrets is not NAME=value", file=SECRETS_FILE)
        value = m.group(2).strip()
        if value.startswith('"'):
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                raise BadInput(f"secret {m.group(1)}: the quoted value on line {n} is not "
                               "valid (expected a JSON string)", file=SECRETS_FILE) from None
        elif value[:1] == "'" and value.endswith("'") and len(value) > 1:
            value = value[1:-1]
        out[m.group(1)] = value
    return out


def render_plaintext(secrets: dict[str, str]) -> bytes:
    lines = ["# zagi secrets: NAME=value, values JSON-quoted"]
    lines += [f"{k}={json.dumps(v)}" for k, v in sorted(secrets.items())]  # ASCII-only lines
    return ("\n".join(lines) + "\n").encode()


@dataclass
class Store:
    """The secrets of one project (its .zagi directory)."""

    zagi_dir: Path

    @property
    def file(self) -> Path:
        return self.zagi_dir / SECRETS_FILE

    @property
    def recipients_file(self) -> Path:
        return self.zagi_dir / RECIPIENTS_FILE

    def recipients(self) -> list[str]:
        return read_recipients(self.recipients_file)

    def exists(self) -> bool:
        return self.file.exists()

    def load(self) -> dict[str, str]:
        """Decrypt in memory. {} when there is no secrets file yet."""
        from pyrage import DecryptError, decrypt

        try:
            blob = self.file.read_bytes()
        except FileNotFoundError:
            return {}
        if not blob.startswith(AGE_HEADER) and not blob.startswith(b"-----BEGIN AGE"):
            raise BadInput("not an age-encrypted file (corrupted?)", file=str(self.file),
                           hint="restore it from git: git checkout -- .zagi/secrets.enc")
        ids = identities()
        try:
            plain = decrypt(blob, ids)
        except DecryptError as exc:
            if "No matching keys" in str(exc):
                pub = public_key_of(load_identity_text(identity_path()))
                raise ZagiError(f"{self.file}: your identity ({pub[:16]}...) is not one of its "
                                "recipients", hint="ask a recipient to run "
                                f"`zagi secrets recipients add {pub}`") from None
            raise BadInput(f"cannot decrypt ({exc}): the file is truncated or corrupted",
                           file=str(self.file),
                           hint="restore it from git: git checkout -- .zagi/secrets.enc") from None
        try:
            return parse_plaintext(plain.decode())
        except UnicodeDecodeError:
            raise BadInput("the decrypted secrets are not UTF-8 text", file=str(self.file)) from None

    def save(self, secrets: dict[str, str], recipients: list[str] | None = None) -> None:
        """Encrypt to every recipient and replace the file atomically (ciphertext only)."""
        from pyrage import encrypt

        keys = self.recipients() if recipients is None else recipients
        if not keys:
            raise ZagiError("no recipients in .zagi/recipients",
                            hint="run `zagi secrets init` to add your key")
        parsed = [parse_recipient(k, str(self.recipients_file)) for k in keys]
        for name in secrets:
            if not _NAME.match(name):
                raise BadInput(f"{name!r} is not a valid secret name (letters, digits, _)")
        atomic_write(self.file, encrypt(render_plaintext(secrets), parsed), mode=0o644)
