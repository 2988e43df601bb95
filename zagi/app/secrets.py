"""Use-cases of `zagi secrets ...`, the secrets given to `zagi run`, and `zagi agent`."""

from __future__ import annotations

import re
from pathlib import Path

from zagi.app.project import Project
from zagi.core import proc
from zagi.core import secrets as core
from zagi.core.errors import BadInput, ZagiError

_ENV_FILE = re.compile(r"^\.env(\.[\w.-]+)?$")
_ENV_EXAMPLES = (".example", ".sample", ".template", ".dist", ".defaults")
MIN_CHECKED_LEN = 6  # shorter values would match by accident


def store(project: Project) -> core.Store:
    return core.Store(project.zagi_dir)


def init(project: Project) -> tuple[str, bool, bool]:
    """(public key, identity created?, added to recipients?) — re-encrypts if it can."""
    pub, created = core.generate_identity()
    st = store(project)
    keys = st.recipients()
    if pub in keys:
        return pub, created, False
    if st.exists():
        values = st.load()  # only a current recipient can add one (it needs the plaintext)
        st.save(values, [*keys, pub])
    core.write_recipients(st.recipients_file, [*keys, pub])
    return pub, created, True


def set_value(project: Project, name: str, value: str) -> None:
    if not value:
        raise BadInput(f"{name}: empty value; nothing stored")
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
    core.parse_recipient(key, "the command line")
    keys = st.recipients()
    if key in keys:
        return
    if st.exists():
        st.save(st.load(), [*keys, key])
    core.write_recipients(st.recipients_file, [*keys, key])


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
    core.write_recipients(st.recipients_file, rest)


def for_run(project: Project) -> tuple[dict[str, str], str | None]:
    """The secrets to give an app process, and why there are none (a note) if so."""
    st = store(project)
    if not st.exists():
        return {}, None
    try:
        return st.load(), None
    except ZagiError as exc:
        if core.identity_path().parent.is_dir() and not core.identity_path().exists():
            return {}, "running without secrets: no identity here (an agent sandbox?)"
        return {}, f"running without secrets: {exc}"


def check(project: Project, staged: bool = True) -> tuple[list[str], list[str]]:
    """(problems, notes): tracked .env files and files holding a secret's value must not be
    committed. Problems name files and secret names, never values."""
    argv = ["git", "-C", str(project.root)]
    names = proc.run([*argv, "diff", "--cached", "--name-only", "--diff-filter=ACMR", "-z"]
                     if staged else [*argv, "ls-files", "-z"], timeout=60, check=True).stdout
    files = [f for f in names.split("\0") if f]
    problems: list[str] = []
    for f in files:
        base = f.rsplit("/", 1)[-1]
        if _ENV_FILE.match(base) and not base.endswith(_ENV_EXAMPLES):
            problems.append(f"{f}: an .env file must not be committed (use `zagi secrets set`)")
    notes: list[str] = []
    try:
        values = {k: v for k, v in store(project).load().items() if len(v) >= MIN_CHECKED_LEN}
    except ZagiError:
        values = {}
        notes.append("secret values not checked: cannot decrypt here (no identity)")
    for f in files:
        spec = f":{f}" if staged else f"HEAD:{f}"
        res = proc.run([*argv, "show", spec], timeout=60)
        for name, value in values.items():
            if value in res.stdout:
                problems.append(f"{f}: contains the value of secret {name}")
    return problems, notes


def install_hook(project: Project) -> Path:
    hook = project.root / ".git" / "hooks" / "pre-commit"
    if not hook.parent.is_dir():
        raise BadInput(f"{project.root} is not a git work tree (no .git/hooks)")
    if hook.exists() and "zagi secrets check" in hook.read_text():
        return hook
    if hook.exists():
        raise BadInput(f"{hook} exists; add `zagi secrets check` to it yourself")
    hook.write_text("#!/bin/sh\n# zagi: refuse committing .env files or secret values\n"
                    "exec zagi secrets check\n")
    hook.chmod(0o755)
    return hook


def agent_env(project: Project, env: dict[str, str]) -> dict[str, str]:
    """The agent's environment: the project's env, minus every secret by name and value."""
    try:
        values = store(project).load() if store(project).exists() else {}
    except ZagiError:
        values = {}
    secret_values = {v for v in values.values() if len(v) >= MIN_CHECKED_LEN}
    out = {k: v for k, v in env.items()
           if k not in values and v not in secret_values and k != "ZAGI_IDENTITY"}
    out["ZAGI_AGENT"] = "1"
    return out
