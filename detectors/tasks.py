"""Tasks a repository already declares, proposed for [tasks]: package.json scripts,
Makefile .PHONY targets, justfile recipes, and pyproject console scripts.

Read from the root only, bounded like every detector read; nothing is run. Each proposal
is a command that calls the repo's own runner (`npm run test`, `make lint`, `just fmt`),
so the repo's definition stays the source of truth.
"""

from __future__ import annotations

import json
import re
import tomllib

from detectors.fs import RepoFS
from zagi.formats.findings import Chosen, Evidence

MAX_PER_SOURCE = 30  # a Makefile with 200 targets would bury the file's purpose
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:+-]{0,63}$")
_MAKE_PHONY = re.compile(r"^\.PHONY\s*:(.*)$")
_JUST_RECIPE = re.compile(r"^@?([A-Za-z0-9][A-Za-z0-9_-]*)(?:\s+[^:=]*)?:(?!=)")


def propose(fs: RepoFS, tools: set[str]) -> dict[str, Chosen]:
    """name -> Chosen (value: the command line), first source wins a name."""
    out: dict[str, Chosen] = {}
    for source in (_package_json(fs, tools), _makefile(fs), _justfile(fs), _pyproject(fs)):
        for name, run, ev in source[:MAX_PER_SOURCE]:
            if _NAME.match(name) and name not in out:
                out[name] = Chosen(name, None, "pin", [ev], value=run)
            elif name in out:
                out[name].evidence.append(ev)
    return out


def _line_of(text: str, needle: str, after: int = 0) -> int | None:
    for i, line in enumerate(text.splitlines()[after:], start=after + 1):
        if needle in line:
            return i
    return None


def _package_json(fs: RepoFS, tools: set[str]) -> list[tuple[str, str, Evidence]]:
    text = fs.text("package.json")
    if text is None:
        return []
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        return []  # the node detector reports a broken package.json
    scripts = doc.get("scripts") if isinstance(doc, dict) else None
    if not isinstance(scripts, dict):
        return []
    runner = next((t for t in ("pnpm", "yarn", "bun") if t in tools), "npm")
    start = (_line_of(text, '"scripts"') or 1) - 1
    out = []
    for name, body in scripts.items():
        hook = next((name[len(h):] for h in ("pre", "post") if name.startswith(h)), None)
        if not isinstance(body, str) or (hook and hook in scripts):
            continue  # npm runs pre/post hooks itself
        line = _line_of(text, json.dumps(name) + ":", start) or _line_of(text, json.dumps(name), start)
        out.append((name, f"{runner} run {name}",
                    Evidence("package.json", line, f"script {name}: {body[:60]}")))
    return out


def _first(fs: RepoFS, names: tuple[str, ...]) -> tuple[str, str] | None:
    """(file, text) of the first of `names` the repo root has."""
    for file in names:
        text = fs.text(file)
        if text is not None:
            return file, text
    return None


def _makefile(fs: RepoFS) -> list[tuple[str, str, Evidence]]:
    found = _first(fs, ("Makefile", "makefile", "GNUmakefile"))
    if found is None:
        return []
    file, text = found
    out = []
    for i, line in enumerate(text.splitlines(), start=1):
        if m := _MAKE_PHONY.match(line):
            out += [(t, f"make {t}", Evidence(file, i, f".PHONY target {t}"))
                    for t in m.group(1).split()]
    return out


def _justfile(fs: RepoFS) -> list[tuple[str, str, Evidence]]:
    found = _first(fs, ("justfile", "Justfile", ".justfile"))
    if found is None:
        return []
    file, text = found
    out = []
    for i, line in enumerate(text.splitlines(), start=1):
        m = _JUST_RECIPE.match(line)
        if m and not m.group(1).startswith("_") and not line.startswith(("set ", "alias ")):
            out.append((m.group(1), f"just {m.group(1)}", Evidence(file, i, f"recipe {m.group(1)}")))
    return out


def _pyproject(fs: RepoFS) -> list[tuple[str, str, Evidence]]:
    text = fs.text("pyproject.toml")
    if text is None:
        return []
    try:
        doc = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError):
        return []
    out = []
    for table, where in ((doc.get("project", {}).get("scripts"), "[project.scripts]"),
                         (doc.get("tool", {}).get("poetry", {}).get("scripts"),
                          "[tool.poetry.scripts]")):
        if not isinstance(table, dict):
            continue
        for name, target in table.items():
            line = _line_of(text, f"{name} =") or _line_of(text, f'"{name}"')
            out.append((name, name, Evidence("pyproject.toml", line,
                                             f"{where} {name} = {str(target)[:60]} "
                                             "(runs once the package is installed)")))
    return out
