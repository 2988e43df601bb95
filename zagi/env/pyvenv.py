"""The project's Python venv: made at sync by the env's own interpreter, kept outside git.

Python from nixpkgs has no pip and its site-packages is read-only (and, like Debian's,
it may be marked EXTERNALLY-MANAGED), so `pip install -r requirements.txt` needs a venv.
zagi makes one per project under $ZAGI_HOME/projects/<root>/venv with the interpreter the
lock chose (`python -I -m venv`, whose ensurepip installs that interpreter's own pip) and
activation puts it first on PATH with VIRTUAL_ENV set, so `python` and `pip` are the
venv's. It is remade when the locked interpreter changes (its packages were built for the
old one) and left alone otherwise. Projects with a manager that owns its venv (uv,
poetry, pdm, pipenv) get none: two venvs would disagree about what is installed.

Running the interpreter runs no repository code: it runs in isolated mode (`-I`: no
current directory or PYTHON* variables on its path) from the project's state directory,
with an environment of the user's own basics only.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from zagi.core import layout
from zagi.core.errors import ZagiError

MANAGERS = ("uv", "poetry", "pdm", "pipenv")
CREATE_TIMEOUT = 300.0  # ensurepip installs pip from a local wheel: seconds, not minutes
DONE = ".zagi-made"  # written last: a venv without it is half-made and is remade
# What the interpreter may see of the user's environment (pip reads its own PIP_* and
# config; a venv needs none of the user's tokens).
_PASS = ("HOME", "LANG", "LC_ALL", "TMPDIR", "PATH", "USER", "LOGNAME")


def venv_dir(root: Path) -> Path:
    return layout.project_dir(root) / "venv"


def interpreter(out: str) -> Path | None:
    """The env's CPython when it can make a venv: bin/python3 of the env resolving into a
    package that has the venv module (a wrapper or a stand-in without it: None)."""
    try:
        real = (Path(out) / "bin" / "python3").resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    package = real.parent.parent
    if not any(package.glob("lib/python3.*/venv/__init__.py")):
        return None
    return real


def _home_of(cfg: Path) -> str | None:
    raw = layout.read_regular(cfg, 1 << 16)  # zagi wrote it, but the user's files are bounded too
    if raw is None:
        return None
    text = raw.decode(errors="replace")
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() == "home":
            return value.strip()
    return None


def ensure(root: Path, py: Path | None,
           tools: set[str]) -> tuple[dict[str, list[str]], dict[str, str], str | None]:
    """(prepend, set, note) for the project's activation, making or remaking its venv
    with `py` (the env's `interpreter`). No venv (and empty activation) when the env has
    no CPython that can make one or a manager in `tools` owns the project's venv."""
    if py is None or tools & set(MANAGERS):
        return {}, {}, None
    d = venv_dir(root)
    if (d / DONE).exists() and _home_of(d / "pyvenv.cfg") == str(py.parent):
        return (*_activation(d), None)
    again = d.exists()
    shutil.rmtree(d, ignore_errors=True)
    failed = _create(py, d)
    if failed is not None:
        # The env itself is fine: sync finishes, without a venv, and says why.
        return {}, {}, failed
    note = (f"the env's python changed: made the project venv again ({d}); "
            "install its packages again") if again else f"made the project venv: {d}"
    return (*_activation(d), note)


def _activation(d: Path) -> tuple[dict[str, list[str]], dict[str, str]]:
    return {"PATH": [str(d / "bin")]}, {"VIRTUAL_ENV": str(d)}


def _create(py: Path, d: Path) -> str | None:
    """None, or why the venv could not be made."""
    from zagi.core import proc

    d.parent.mkdir(parents=True, exist_ok=True)
    env = {k: os.environ[k] for k in _PASS if k in os.environ}
    try:
        res = proc.run([str(py), "-I", "-m", "venv", str(d)], cwd=d.parent, env=env,
                       inherit_env=False, timeout=CREATE_TIMEOUT)
    except ZagiError as exc:
        res = None
        why = exc.message
    if res is not None and res.ok and (d / "pyvenv.cfg").is_file():
        (d / DONE).write_text(str(py) + "\n")
        return None
    if res is not None:
        why = (res.stderr.strip().splitlines() or [
            f"exit code {res.returncode}" if res.returncode else "it made no venv"])[-1]
    shutil.rmtree(d, ignore_errors=True)
    return f"no project venv: {py} -m venv failed: {why}"
