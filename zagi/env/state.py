"""zagi's own bookkeeping of realized envs under $ZAGI_HOME (paths: zagi/core/layout.py).

Stdlib only: the cached `zagi sync` and `zagi run` use it without importing anything heavy.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from zagi.core import layout

# The variables activation prepends to (shellhooks/activation.py PREPEND; a test keeps
# the two equal, so this stdlib-only module need not import the renderer).
PREPENDED = frozenset({"PATH", "PKG_CONFIG_PATH", "CPATH", "LIBRARY_PATH", "LD_RUN_PATH",
                       "MANPATH"})
_STORE_DIR = re.compile(r"/nix/store/[0-9a-df-np-sv-z]{32}-[A-Za-z0-9+\-._?=]+"
                        r"/(?:lib|lib/pkgconfig|share/pkgconfig|include)")
# ... and those that may also name directories of propagated libraries (BUILD_VARS there)
PROPAGATED_VARS = frozenset({"PKG_CONFIG_PATH", "CPATH", "LIBRARY_PATH", "LD_RUN_PATH"})


def touch_last_used(env_id: str) -> None:
    """Best effort: a read-only or shared ZAGI_HOME must not fail the command that uses it."""
    p = layout.env_dir(env_id) / "last-used"
    try:
        os.utime(p)
    except FileNotFoundError:
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
            p.touch()
        except OSError:
            pass
    except OSError:
        pass


def note_project(env_id: str, project: Path) -> None:
    p = layout.env_dir(env_id) / "projects"
    line = str(project)
    try:
        known = p.read_text().splitlines()
    except FileNotFoundError:
        known = []
    if line not in known:
        p.parent.mkdir(parents=True, exist_ok=True)
        with p.open("a") as fh:
            fh.write(line + "\n")


def write_activation(env_id: str, out: str, env: dict[str, str],
                     propagated: list[str] | None = None) -> dict[str, object]:
    """All activation files for an env, written once at sync (read-only); hooks only source
    them. activate.json goes last: read_activation treats it as the sign they are complete.
    `propagated`: libraries the env's packages propagate (zagi/env/compose.py)."""
    import os

    from shellhooks import activation
    from zagi.core.fsutil import atomic_write

    act = activation.activation(out, env, propagated, os.path.isdir)
    d = layout.env_dir(env_id)
    for name, text in activation.render_all(act).items():
        atomic_write(d / name, text, mode=0o444)
    write_json(d / layout.ACTIVATE_JSON, act, mode=0o444)
    return act


def read_activation(env_id: str, out: str) -> tuple[dict[str, list[str]], dict[str, str]] | None:
    """(prepend, set): the env's activation data if it is exactly what sync writes for
    `out`, else None.

    Re-checked on every read (zagi wrote it, but anything running as the user could have
    edited it since): only the variables activation manages may be prepended to, only with
    directories inside the env's own output, and [env] names obey the same policy as
    env.toml and the lock (zagi/core/envnames.py).
    """
    import json

    from zagi.core.envnames import reserved_reason

    try:
        act = json.loads((layout.env_dir(env_id) / layout.ACTIVATE_JSON).read_text())
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(act, dict) or act.get("out") != out or set(act) != {"out", "prepend", "set"}:
        return None
    prepend, sets = act["prepend"], act["set"]
    if not isinstance(prepend, dict) or not isinstance(sets, dict):
        return None
    for var, dirs in prepend.items():
        if var not in PREPENDED or not isinstance(dirs, list) or not all(
                isinstance(d, str) and ":" not in d and (
                    d.startswith(out + "/") or (var in PROPAGATED_VARS and _STORE_DIR.fullmatch(d)))
                for d in dirs):
            return None
    for name, value in sets.items():
        if not isinstance(value, str) or reserved_reason(str(name)) is not None:
            return None
    return prepend, sets


def write_project_activation(root: Path, prepend: dict[str, list[str]],
                             sets: dict[str, str]) -> None:
    """The project's own activation (its services' variables, its venv), which the hooks
    source after the env's: per project, since two projects with one env have different
    ports and venvs. Written at sync before .synced; none when there is nothing."""
    from shellhooks import activation
    from zagi.core.fsutil import atomic_write

    d = layout.project_dir(root)
    act: dict[str, object] = {"out": "", "prepend": prepend, "set": sets}
    files = activation.render_all(act)
    if not prepend and not sets:
        for name in [*files, layout.ACTIVATE_JSON]:
            (d / name).unlink(missing_ok=True)
        return
    for name, text in files.items():
        atomic_write(d / name, text, mode=0o444)
    write_json(d / layout.ACTIVATE_JSON, {"prepend": prepend, "set": sets}, mode=0o444)


def read_project_activation(root: Path) -> tuple[dict[str, list[str]], dict[str, str]]:
    """(prepend, set) of the project's activation, re-checked as read_activation does:
    only service variables and the project's own venv (VIRTUAL_ENV and its bin first on
    PATH); anything else is dropped."""
    import json

    from zagi.core.envnames import SERVICE_VARS

    d = layout.project_dir(root)
    try:
        doc = json.loads((d / layout.ACTIVATE_JSON).read_text())
    except (OSError, ValueError, RecursionError):
        return {}, {}
    sets = doc.get("set") if isinstance(doc, dict) else None
    prepend = doc.get("prepend") if isinstance(doc, dict) else None
    venv = str(d / "venv")
    out_set = {k: v for k, v in sets.items() if isinstance(v, str) and (
        k in SERVICE_VARS or (k == "VIRTUAL_ENV" and v == venv))} if isinstance(sets, dict) else {}
    out_prepend: dict[str, list[str]] = {}
    if isinstance(prepend, dict) and prepend.get("PATH") == [venv + "/bin"] \
            and out_set.get("VIRTUAL_ENV") == venv:
        out_prepend["PATH"] = [venv + "/bin"]
    return out_prepend, out_set


def write_json(path: Path, data: object, mode: int = 0o644) -> None:
    import json

    from zagi.core.fsutil import atomic_write

    atomic_write(path, json.dumps(data, indent=2, sort_keys=True) + "\n", mode=mode)


def flip_symlink(link: Path, target: str) -> None:
    """Point `link` at `target` atomically: a new symlink renamed over the old one."""
    tmp = link.with_name(f".{link.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    os.symlink(target, tmp)
    os.replace(tmp, link)
