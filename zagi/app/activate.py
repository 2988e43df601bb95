"""Use-cases of shell integration: hooks, trust (allow/deny), exports, run, shell."""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from pathlib import Path

import shellhooks
from zagi.app.project import Project
from zagi.core import store
from zagi.core.errors import BadInput, ZagiError
from zagi.core.paths import zagi_home


def executable() -> str:
    """How hooks call zagi back (background sync): this installation's own script."""
    exe = Path(sys.argv[0])
    if exe.name == "zagi" and exe.exists():
        return str(exe.resolve())
    return shutil.which("zagi") or "zagi"


def hook(shell: str) -> str:
    if shell not in shellhooks.SHELLS:
        raise BadInput(f"unknown shell {shell!r}; expected one of: {', '.join(shellhooks.SHELLS)}")
    (zagi_home() / "run").mkdir(parents=True, exist_ok=True)  # per-shell prompt stamps
    return shellhooks.render(shell, zagi_home(), executable())


def install(shell: str) -> tuple[Path, bool]:
    """Add the hook to the shell's rc file (direnv: the use_zagi function). Idempotent."""
    rc = Path(os.path.expanduser(shellhooks.RC_FILES[shell]))
    text = rc.read_text() if rc.exists() else ""
    line = shellhooks.INSTALL_LINES.get(shell)
    if line is None:  # direnv: the function itself goes into direnvrc
        if "use_zagi()" in text:
            return rc, False
        addition = hook(shell)
    else:
        if line in text:
            return rc, False
        addition = f"\n# zagi: activate project environments on cd\n{line}\n"
    rc.parent.mkdir(parents=True, exist_ok=True)
    with rc.open("a") as fh:
        fh.write(addition)
    return rc, True


def _key(root: Path) -> str:
    return str(root).replace("/", "%")  # the hook derives the same name with ${d//\//%}


def lock_env_id(project: Project) -> str:
    try:
        return hashlib.sha256(project.lock.read_bytes()).hexdigest()[:32]
    except FileNotFoundError:
        raise BadInput("this project has no env.lock yet", file=str(project.lock),
                       hint="run `zagi sync` (or `zagi lock`), then `zagi allow`") from None


def synced_env_id(project: Project) -> str | None:
    try:
        return (project.zagi_dir / ".synced").read_text().split()[0]
    except (OSError, IndexError):
        return None


def allow(project: Project) -> list[str]:
    """Trust this project's current env (the lock's, and the last synced one) in hooks."""
    ids = {lock_env_id(project)}
    if synced := synced_env_id(project):
        ids.add(synced)
    for env_id in sorted(ids):
        allow_id(project.root, env_id)
    return sorted(ids)


def allow_id(root: Path, env_id: str) -> None:
    d = zagi_home() / "allow" / env_id
    d.mkdir(parents=True, exist_ok=True)
    (d / _key(root)).write_text(str(root) + "\n")


def is_allowed(root: Path, env_id: str) -> bool:
    return (zagi_home() / "allow" / env_id / _key(root)).exists()


def deny(project: Project) -> int:
    base = zagi_home() / "allow"
    removed = 0
    for f in base.glob(f"*/{_key(project.root)}") if base.is_dir() else []:
        f.unlink()
        removed += 1
    return removed


def exports(project: Project, shell: str) -> str:
    env_id = synced_env_id(project)
    names = {"bash": "export.sh", "zsh": "export.sh", "sh": "export.sh", "fish": "export.fish",
             "json": "activate.json"}
    if shell not in names:
        raise BadInput(f"--export {shell!r}: expected one of: {', '.join(names)}")
    path = store.env_dir(env_id) / names[shell] if env_id else None
    if path is None or not path.exists():
        raise ZagiError("this project's env is not set up", hint="run `zagi sync`")
    return path.read_text()
