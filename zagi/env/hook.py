"""`zagi hook SHELL [--install]`: the per-shell hook script, and adding it to an rc file."""

from __future__ import annotations

import shlex
import shutil
import sys
from pathlib import Path

import shellhooks
from shellhooks.activation import fish_quote
from zagi.core import layout
from zagi.core.errors import BadInput


def executable() -> str:
    """How hooks call zagi back (background sync): this installation's own script."""
    exe = Path(sys.argv[0])
    if exe.name == "zagi" and exe.exists():
        return str(exe.resolve())
    return shutil.which("zagi") or "zagi"


def hook(shell: str) -> str:
    if shell not in shellhooks.SHELLS:
        raise BadInput(f"unknown shell {shell!r}; expected one of: {', '.join(shellhooks.SHELLS)}")
    layout.run_dir().mkdir(parents=True, exist_ok=True)  # per-shell prompt stamps
    return shellhooks.render(shell, layout.zagi_home(), executable())


MIN_BASH = (4, 3)  # namerefs (`local -n`)


def bash_too_old() -> str | None:
    """The `bash` on PATH when it is older than the hook needs (macOS ships 3.2), else None."""
    from zagi.core import proc

    if proc.which("bash") is None:
        return None
    res = proc.run(["bash", "-c", 'echo "${BASH_VERSINFO[0]} ${BASH_VERSINFO[1]} $BASH_VERSION"'],
                   timeout=10)
    parts = res.stdout.split()
    if not res.ok or len(parts) < 3 or not (parts[0].isdigit() and parts[1].isdigit()):
        return None
    return parts[2] if (int(parts[0]), int(parts[1])) < MIN_BASH else None


def install(shell: str) -> tuple[Path, bool]:
    """Add the hook to the shell's rc file (direnv: the use_zagi function). Idempotent."""
    if shell not in shellhooks.SHELLS:
        raise BadInput(f"unknown shell {shell!r}; expected one of: {', '.join(shellhooks.SHELLS)}")
    rc = shellhooks.rc_file(shell)
    text = rc.read_text() if rc.exists() else ""
    template = shellhooks.INSTALL_LINES.get(shell)
    if template is None:  # direnv: the function itself goes into direnvrc
        if "use_zagi()" in text:
            return rc, False
        addition = hook(shell)
    else:
        exe = executable()
        line = template.format(exe=shlex.quote(exe) if shell != "fish" else fish_quote(exe))
        if line in text or template.format(exe="zagi") in text:
            return rc, False
        addition = f"\n# zagi: activate project environments on cd\n{line}\n"
    rc.parent.mkdir(parents=True, exist_ok=True)
    with rc.open("a") as fh:
        fh.write(addition)
    return rc, True
