"""`zagi secrets check`: refuse commits of .env files or of files holding a secret's value."""

from __future__ import annotations

import re
from pathlib import Path

from zagi.core.errors import BadInput, ZagiError
from zagi.core.layout import Project
from zagi.drivers import git
from zagi.secrets.store import Store

__all__ = ["MIN_CHECKED_LEN", "check", "install_hook"]

_ENV_FILE = re.compile(r"^\.env(\.[\w.-]+)?$")
_ENV_EXAMPLES = (".example", ".sample", ".template", ".dist", ".defaults")
MIN_CHECKED_LEN = 6  # shorter values would match by accident


def check(project: Project, staged: bool = True) -> tuple[list[str], list[str]]:
    """(problems, notes): tracked .env files and files holding a secret's value must not be
    committed. Problems name files and secret names, never values."""
    files = git.staged_files(project.root) if staged else git.tracked_files(project.root)
    problems: list[str] = []
    for f in files:
        base = f.rsplit("/", 1)[-1]
        if _ENV_FILE.match(base) and not base.endswith(_ENV_EXAMPLES):
            problems.append(f"{f}: an .env file must not be committed (use `zagi secrets set`)")
    notes: list[str] = []
    try:
        values = {k: v for k, v in Store(project.zagi_dir).load().items()
                  if len(v) >= MIN_CHECKED_LEN}
    except ZagiError:
        values = {}
        notes.append("secret values not checked: cannot decrypt here (no identity)")
    for f in files:
        spec = f":{f}" if staged else f"HEAD:{f}"
        text = git.file_at(project.root, spec)
        for name, value in values.items():
            if value in text:
                problems.append(f"{f}: contains the value of secret {name}")
    return problems, notes


def install_hook(project: Project) -> Path:
    hooks = git.hooks_dir(project.root)
    hook = hooks / "pre-commit"
    hooks.mkdir(parents=True, exist_ok=True)
    if hook.exists() and "zagi secrets check" in hook.read_text():
        return hook
    if hook.exists():
        raise BadInput(f"{hook} exists; add `zagi secrets check` to it yourself")
    hook.write_text("#!/bin/sh\n# zagi: refuse committing .env files or secret values\n"
                    "exec zagi secrets check\n")
    hook.chmod(0o755)
    return hook
