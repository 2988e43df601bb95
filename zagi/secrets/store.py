"""`.zagi/secrets.enc`: the project's secrets, age-encrypted to its recipients.

The plaintext exists only in memory: decrypted from the file, handed to a process's
environment by `zagi run`, never written, logged, or put in an error message. Errors
name files, keys and secret *names*, never values. The plaintext format is
zagi/formats/secretsfile.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from zagi.core.errors import BadInput, ZagiError
from zagi.core.fsutil import atomic_write, read_bounded
from zagi.core.layout import RECIPIENTS_FILE, SECRETS_FILE
from zagi.formats.secretsfile import NAME, parse_plaintext, render_plaintext
from zagi.secrets.identity import identities, identity_path, load_identity_text, public_key_of
from zagi.secrets.recipients import parse_recipient, read_recipients, require_confirmed

__all__ = ["AGE_HEADER", "Store"]

AGE_HEADER = b"age-encryption.org/v1\n"
MAX_SECRETS_BYTES = 16 << 20


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

        if not self.file.exists() and not self.file.is_symlink():
            return {}
        blob = read_bounded(self.file, MAX_SECRETS_BYTES,
                            hint="restore it from git: git checkout -- .zagi/secrets.enc")
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
        require_confirmed(self.zagi_dir.parent, keys, self.recipients_file)
        parsed = [parse_recipient(k, str(self.recipients_file)) for k in keys]
        for name in secrets:
            if not NAME.match(name):
                raise BadInput(f"{name!r} is not a valid secret name (letters, digits, _)")
        atomic_write(self.file, encrypt(render_plaintext(secrets), parsed), mode=0o644)
