"""Python: the interpreter version and the project manager (uv, poetry, pdm, pipenv, pip)."""

from __future__ import annotations

import re
from typing import Any

from detectors import rank
from detectors.base import Ctx
from detectors.common import clean_version, constraint, pep440, system_from_deps
from detectors.text import ParseError, first_value_line, load_toml, load_yaml
from zagi.core.tomlloc import locate

FILES = frozenset({
    ".python-version", "runtime.txt", "Pipfile", "Pipfile.lock", "pyproject.toml",
    "uv.lock", "poetry.lock", "pdm.lock", "setup.py", "setup.cfg", "environment.yml",
    "environment.yaml",
})  # fmt: skip
_REQ_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirements(ctx: Ctx) -> list[str]:
    return sorted(n for n in ctx.names if re.fullmatch(r"requirements[\w.-]*\.(txt|in)", n))


def _r_runtime(ctx: Ctx) -> bool:
    """runtime.txt `r-4.3-2023-06-01` is Binder's R pin (detectors/r.py), not Python's."""
    text = ctx.text("runtime.txt") if "runtime.txt" in ctx.names else None
    first = first_value_line(text) if text else None
    return bool(first and first[0].lower().startswith("r-"))


def detect(ctx: Ctx) -> None:
    reqs = _requirements(ctx)
    files = ctx.names & FILES
    if "runtime.txt" in files and _r_runtime(ctx):
        files = files - {"runtime.txt"}
    if not (files or reqs):
        return
    for f in sorted(files) + reqs:
        ctx.mark("python", f)
    pyproject = _toml(ctx, "pyproject.toml")
    pinned = _version_files(ctx)
    pinned |= _pipfile(ctx)
    pinned |= _conda(ctx)
    if pyproject is not None:
        pinned |= _requires_python(ctx, pyproject)
        project = pyproject.get("project")
        ctx.name(project.get("name") if isinstance(project, dict) else None)
    _manager(ctx, pyproject, reqs)
    _deps(ctx, pyproject, reqs)
    if not pinned:
        ctx.default("python", sorted(files or set(reqs))[0],
                    "python project; no python version pinned")


def _toml(ctx: Ctx, name: str) -> dict[str, Any] | None:
    if name not in ctx.names or (text := ctx.text(name)) is None:
        return None
    try:
        return load_toml(text)
    except ParseError as err:
        ctx.bad(name, err)
        return None


def _version_files(ctx: Ctx) -> bool:
    found = False
    if ".python-version" in ctx.names and (text := ctx.text(".python-version")):
        first = first_value_line(text)
        v = clean_version(first[0]) if first else None
        if first and v:
            ctx.tool("python", v, "pin", ".python-version", first[1], ".python-version",
                     rank.VERSION_FILE)
            found = True
        else:
            ctx.warn(f"{ctx.rel('.python-version')}: expected a CPython version such as "
                     "3.12 or 3.12.1; ignored")
    if "runtime.txt" in ctx.names and (text := ctx.text("runtime.txt")):
        first = first_value_line(text)
        m = re.fullmatch(r"python-(\d+(?:\.\d+)*)", first[0]) if first else None
        if first and m:
            ctx.tool("python", m.group(1), "pin", "runtime.txt", first[1], "runtime.txt",
                     rank.MANIFEST_PIN)
            found = True
    return found


def _pipfile(ctx: Ctx) -> bool:
    data = _toml(ctx, "Pipfile")
    if data is None:
        return False
    text = ctx.text("Pipfile") or ""
    requires = data.get("requires")
    found = False
    if isinstance(requires, dict):
        for key in ("python_full_version", "python_version"):
            if isinstance(requires.get(key), str) and (v := clean_version(requires[key])):
                ctx.tool("python", v, "pin", "Pipfile", locate(text, ("requires", key))[0],
                         f"[requires] {key}", rank.MANIFEST_PIN + (1 if "full" in key else 0))
                found = True
                break
    deps: dict[str, int | None] = {}
    for section in ("packages", "dev-packages"):
        if isinstance(data.get(section), dict):
            for name in data[section]:
                deps[_norm(name)] = locate(text, (section, name))[0]
    system_from_deps(ctx, "python", deps, "Pipfile")
    return found


def _conda(ctx: Ctx) -> bool:
    for name in ("environment.yml", "environment.yaml"):
        if name not in ctx.names or (text := ctx.text(name)) is None:
            continue
        try:
            data, lines = load_yaml(text)
        except ParseError as err:
            ctx.bad(name, err)
            continue
        deps = data.get("dependencies") if isinstance(data, dict) else None
        for i, dep in enumerate(deps if isinstance(deps, list) else []):
            if isinstance(dep, str) and (m := re.fullmatch(r"python\s*=+\s*([\d.]+)\*?", dep)):
                ctx.tool("python", m.group(1).rstrip("."), "pin", name,
                         lines.get(("dependencies", i)), "conda dependency python=",
                         rank.MANIFEST_PIN)
                return True
    return False


def _requires_python(ctx: Ctx, py: dict[str, Any]) -> bool:
    text = ctx.text("pyproject.toml") or ""
    project = py.get("project")
    rp = project.get("requires-python") if isinstance(project, dict) else None
    where: tuple[str, ...] = ("project", "requires-python")
    if not isinstance(rp, str):
        poetry = py.get("tool", {}).get("poetry", {}) if isinstance(py.get("tool"), dict) else {}
        deps = poetry.get("dependencies") if isinstance(poetry, dict) else None
        rp = deps.get("python") if isinstance(deps, dict) else None
        where = ("tool", "poetry", "dependencies", "python")
    if not isinstance(rp, str):
        return False
    # [project] requires-python is PEP 440; poetry's python dependency is poetry's syntax
    # (^3.10, ~3.9), which zagi's grammar reads as written.
    c = pep440(rp) if where[0] == "project" else constraint(rp)
    if c is None:
        ctx.warn(f"{ctx.rel('pyproject.toml')}: {'.'.join(where)} {rp!r} is not a version "
                 "range zagi understands; ignored")
        return False
    req, kind, note = c
    # requires-python states what the code supports: a floor even when written "==3.11.*".
    ctx.tool("python", req if kind == "floor" else f">={req}", "floor", "pyproject.toml",
             locate(text, where)[0], f"{'.'.join(where)} {rp!r}{note}", rank.MANIFEST_FLOOR)
    return True


def _manager(ctx: Ctx, py: dict[str, Any] | None, reqs: list[str]) -> None:
    tool = py.get("tool", {}) if py and isinstance(py.get("tool"), dict) else {}
    if "uv.lock" in ctx.names or "uv" in tool:
        f = "uv.lock" if "uv.lock" in ctx.names else "pyproject.toml"
        why = "lockfile" if f == "uv.lock" else "[tool.uv]"
        ctx.tool("uv", None, "default", f, None, f"{f} ({why})", rank.LOCKFILE)
        uv = tool.get("uv")
        rv = uv.get("required-version") if isinstance(uv, dict) else None
        if isinstance(rv, str) and (c := pep440(rv)):
            text = ctx.text("pyproject.toml") or ""
            ctx.tool("uv", c[0], c[1], "pyproject.toml",
                     locate(text, ("tool", "uv", "required-version"))[0],
                     "[tool.uv] required-version", rank.MANIFEST_PIN)
    elif "poetry.lock" in ctx.names or "poetry" in tool:
        head = ctx.head("poetry.lock", 512) if "poetry.lock" in ctx.names else None
        m = re.search(r"@generated by Poetry (\d+\.\d+\.\d+)", head or "")
        if m:
            ctx.tool("poetry", m.group(1), "pin", "poetry.lock", 1, "poetry.lock header",
                     rank.LOCKFILE)
        else:
            f = "poetry.lock" if head is not None else "pyproject.toml"
            ctx.tool("poetry", None, "default", f, None, f"{f} present", rank.LOCKFILE)
    elif "pdm.lock" in ctx.names or "pdm" in tool:
        f = "pdm.lock" if "pdm.lock" in ctx.names else "pyproject.toml"
        ctx.tool("pdm", None, "default", f, None, f"{f} present", rank.LOCKFILE)
    elif "Pipfile" in ctx.names or "Pipfile.lock" in ctx.names:
        f = "Pipfile.lock" if "Pipfile.lock" in ctx.names else "Pipfile"
        ctx.tool("pipenv", None, "default", f, None, f"{f} present", rank.LOCKFILE)
    elif reqs or py is not None or "setup.py" in ctx.names:
        f = reqs[0] if reqs else ("pyproject.toml" if py is not None else "setup.py")
        ctx.default("pip", f, "pip, from the project venv sync makes with python")


def _deps(ctx: Ctx, py: dict[str, Any] | None, reqs: list[str]) -> None:
    deps: dict[str, int | None] = {}
    if py is not None:
        text = ctx.text("pyproject.toml") or ""
        names: list[str] = []
        project: dict[str, Any] = py["project"] if isinstance(py.get("project"), dict) else {}
        names += [d for d in project.get("dependencies", []) if isinstance(d, str)]
        for group in (project.get("optional-dependencies") or {}).values():
            names += [d for d in group if isinstance(d, str)] if isinstance(group, list) else []
        for group in (py.get("dependency-groups") or {}).values():
            names += [d for d in group if isinstance(d, str)] if isinstance(group, list) else []
        poetry = py.get("tool", {}).get("poetry", {}) if isinstance(py.get("tool"), dict) else {}
        if isinstance(poetry, dict) and isinstance(poetry.get("dependencies"), dict):
            names += [n for n in poetry["dependencies"] if n != "python"]
        for spec in names:
            if m := _REQ_NAME.match(spec):
                esc = re.escape(m.group(1))
                lm = re.search(rf"""^\s*["']?{esc}\b""", text, re.MULTILINE | re.IGNORECASE)
                deps.setdefault(_norm(m.group(1)), text.count("\n", 0, lm.start()) + 1 if lm else None)
        system_from_deps(ctx, "python", deps, "pyproject.toml")
    for req in reqs:
        body = ctx.text(req)
        if body is None:
            continue
        rdeps: dict[str, int | None] = {}
        for n, line in enumerate(body.splitlines(), start=1):
            line = line.split("#", 1)[0]
            if line.strip().startswith("-"):
                continue  # -r other.txt, -e ., --index-url: options, not packages
            if m := _REQ_NAME.match(line):
                rdeps.setdefault(_norm(m.group(1)), n)
        system_from_deps(ctx, "python", rdeps, req)
