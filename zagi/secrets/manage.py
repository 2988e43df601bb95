"""Use-cases of `zagi secrets init|set|rm|recipients`: every change re-encrypts in memory
and replaces .zagi/secrets.enc atomically."""

from __future__ import annotations

from zagi.core.envnames import reserved_reason
from zagi.core.errors import BadInput
from zagi.core.layout import Project
from zagi.formats.secretsfile import NAME
from zagi.secrets.identity import generate_identity
from zagi.secrets.recipients import confirm, parse_recipient, unconfirmed, write_recipients
from zagi.secrets.store import Store

__all__ = ["check_name", "init", "recipients_add", "recipients_confirm", "recipients_rm", "remove",
           "set_value", "store", "unconfirmed_recipients"]


def store(project: Project) -> Store:
    return Store(project.zagi_dir)


def init(project: Project) -> tuple[str, bool, bool]:
    """(public key, identity created?, added to recipients?) — re-encrypts if it can."""
    pub, created = generate_identity()
    st = store(project)
    keys = st.recipients()
    confirm(project.root, [pub])  # your own key
    if pub in keys:
        return pub, created, False
    if st.exists():
        values = st.load()  # only a current recipient can add one (it needs the plaintext)
        st.save(values, [*keys, pub])
    write_recipients(st.recipients_file, [*keys, pub])
    return pub, created, True


def check_name(name: str) -> None:
    """A secret becomes an environment variable of the app: a valid name, and not one
    that runs code or that zagi manages (the same policy as [env])."""
    if not NAME.match(name):
        raise BadInput(f"{name!r} is not a valid secret name (letters, digits and _, not "
                       "starting with a digit)")
    if why := reserved_reason(name):
        raise BadInput(f"{name}: {why.replace('[env] may not set it', 'a secret may not be it')}")


def set_value(project: Project, name: str, value: str) -> None:
    check_name(name)
    if not value:
        raise BadInput(f"{name}: empty value; nothing stored")
    if "\0" in value:
        raise BadInput(f"{name}: the value contains a NUL byte, which no environment variable "
                       "can hold; nothing stored")
    st = store(project)
    values = st.load()
    values[name] = value
    st.save(values)


def remove(project: Project, name: str) -> None:
    st = store(project)
    values = st.load()
    if name not in values:
        raise BadInput(f"no secret named {name!r}")
    del values[name]
    st.save(values)


def recipients_add(project: Project, key: str) -> None:
    st = store(project)
    parse_recipient(key, "the command line")
    confirm(project.root, [key])  # named by you on the command line: your decision
    keys = st.recipients()
    if key in keys:
        return
    if st.exists():
        st.save(st.load(), [*keys, key])
    write_recipients(st.recipients_file, [*keys, key])


def recipients_rm(project: Project, key: str) -> None:
    """Remove a recipient and re-encrypt, so the removed key cannot decrypt the new file."""
    st = store(project)
    keys = st.recipients()
    if key not in keys:
        raise BadInput(f"{key[:24]}... is not a recipient")
    rest = [k for k in keys if k != key]
    if st.exists():
        if not rest:
            raise BadInput("that is the last recipient; nobody could decrypt the secrets")
        st.save(st.load(), rest)
    write_recipients(st.recipients_file, rest)


def recipients_confirm(project: Project, keys: list[str]) -> list[str]:
    """Confirm keys that are already in .zagi/recipients (after you have checked them)."""
    listed = store(project).recipients()
    missing = [k for k in keys if k not in listed]
    if missing:
        raise BadInput(f"{missing[0][:24]}... is not in {store(project).recipients_file}",
                       hint="add a new recipient with `zagi secrets recipients add KEY`")
    confirm(project.root, keys)
    return keys


def unconfirmed_recipients(project: Project) -> list[str]:
    return unconfirmed(project.root, store(project).recipients())
