"""`zagi init`: infer the environment of a repo and write .zagi/env.toml with evidence."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zagi.core.errors import BadInput
from zagi.core.fsutil import atomic_write
from zagi.core.layout import Project
from zagi.core.names import TOOLS
from zagi.core.versions import RequestError, parse_request
from zagi.formats.findings import Chosen, Report

SCHEMA_VERSION = 1  # must equal zagi.formats.spec.SCHEMA_VERSION (tests check); not imported: pydantic

HEADER = """\
zagi environment for this repository, inferred by `zagi init` from its files.
Each value says where it came from: file:line (kind). Kinds: pin = a version the
repo states, ci = what its CI workflows install, floor = a minimum turned into a
request, default = nothing pinned.
Edit freely: versions are requests ("20", ">=20", "lts"); `zagi lock` resolves them."""


@dataclass
class InitResult:
    report: Report
    text: str
    path: Path
    written: bool


def parse_with(values: list[str]) -> list[tuple[str, str]]:
    """`--with node@22` values -> [(tool, version)], refusing bad names and versions."""
    out: list[tuple[str, str]] = []
    for v in values:
        name, _, version = v.partition("@")
        if name not in TOOLS or not version:
            raise BadInput(f"--with {v!r}: expected TOOL@VERSION with TOOL one of "
                           f"{', '.join(TOOLS)}")
        try:
            out.append((name, parse_request(version).text))
        except RequestError as exc:
            raise BadInput(f"--with {v!r}: {exc}") from None
    return out


def run(root: Path, *, force: bool = False, dry_run: bool = False,
        overrides: list[tuple[str, str]] | None = None, merge: bool = False) -> InitResult:
    """Infer and write env.toml. `merge` (re-inference: `zagi watch --infer`,
    `init --merge`): what the user wrote in the existing file is kept (see merge_user)."""
    from detectors import infer  # lazy: the CLI's --help must not pay for detectors

    if not root.is_dir():
        raise BadInput(f"{root}: not a directory; expected the root of a repository")
    target = Project(root).env_toml
    if target.exists() and not force and not dry_run:
        raise BadInput("already exists", hint="use --force to replace it, "
                       "or --dry-run to see what init would write", file=str(target))
    report = infer(root, overrides or [])
    if not report.tools and not report.services and not report.system and not report.nix:
        report.warnings.append("no project files found (package.json, pyproject.toml, go.mod, "
                               "Cargo.toml, ...); env.toml has no tools")
    text = render(report)
    if merge and target.is_file():
        from zagi.core.fsutil import read_bounded

        text = merge_user(read_bounded(target, 1 << 20).decode("utf-8", errors="replace"), text)
    # A cheap syntax check only: importing the pydantic spec here would cost more than
    # the whole detection on a big monorepo. The tests load every rendered fixture
    # through the full spec (tests/cli/test_fixtures.py).
    import tomllib

    tomllib.loads(text)
    if not dry_run:
        atomic_write(target, text)
    return InitResult(report, text, target, not dry_run)


def _comment(c: Chosen) -> str:
    ev = c.evidence[0]
    more = f" +{len(c.evidence) - 1} more" if len(c.evidence) > 1 else ""
    if c.version is None:
        return f"{ev.cite()} {ev.rule} ({c.kind}: no version found){more}"
    return f"{ev.cite()} ({c.kind}){more}"


def render(report: Report) -> str:
    import tomlkit

    doc = tomlkit.document()
    for line in HEADER.splitlines():
        doc.add(tomlkit.comment(line))
    doc.add("schema", SCHEMA_VERSION)
    doc.add(tomlkit.nl())
    project = tomlkit.table()
    project.add("name", report.root_name)
    doc.add("project", project)

    tools = tomlkit.table()
    bundled = bundled_with()
    for name, c in report.tools.items():  # already in canonical order (detectors.merge)
        if c.version is None and name in bundled:
            ev = c.evidence[0]
            tools.add(tomlkit.comment(f"{name}: bundled with {bundled[name]} ({ev.cite()}); "
                                      f'pin it with {name} = "VERSION"'))
            continue
        version = c.version or "latest"
        value: Any = version
        if c.extra:
            value = tomlkit.inline_table()
            value.add("version", version)
            for k, vals in sorted(c.extra.items()):
                value.add(k, vals)
        item = tomlkit.item(value)
        item.comment(_comment(c))
        tools.add(name, item)
    doc.add("tools", tools)

    system = tomlkit.table()
    pkgs = tomlkit.array()
    pkgs.multiline(True)
    for name, c in sorted(report.system.items()):
        pkgs.add_line(name, comment=f"{c.evidence[0].cite()} {c.evidence[0].rule}")
    system.add("packages", pkgs)
    doc.add("system", system)

    services = tomlkit.table()
    for name, c in sorted(report.services.items()):
        svalue: Any = c.version or "latest"
        if c.extra.get("database") or c.extra.get("user"):  # from a compose file
            svalue = tomlkit.inline_table()
            svalue.add("version", c.version or "latest")
            for k in ("database", "user"):
                if c.extra.get(k):
                    svalue.add(k, c.extra[k][0])
        item = tomlkit.item(svalue)
        item.comment(_comment(c))
        services.add(name, item)
    doc.add("services", services)

    if report.tasks:
        tasks = tomlkit.table()
        for name, c in report.tasks.items():
            item = tomlkit.item(c.value or name)
            ev = c.evidence[0]
            item.comment(f"{ev.cite()} {ev.rule}")
            tasks.add(name, item)
        doc.add("tasks", tasks)

    env = tomlkit.table()
    for name, c in sorted(report.env.items()):
        # Container ENV values are candidates: a dev shell rarely wants NODE_ENV=production.
        env.add(tomlkit.comment(f"{name} = {tomlkit.string(c.value or '').as_string()}"
                                f"  # {c.evidence[0].cite()} (candidate: uncomment to use)"))
    doc.add("env", env)

    if report.nix:
        nix = tomlkit.table()
        item = tomlkit.item(report.nix.version or ".")
        item.comment(f"{report.nix.evidence[0].cite()} (recorded only: zagi locks the tools "
                     "above, not this Nix env, yet)")
        nix.add(report.nix.name, item)
        doc.add("nix", nix)
    return tomlkit.dumps(doc)


def bundled_with() -> dict[str, str]:
    """Managers that come inside their runtime (detectors/data/defaults.toml [bundled])."""
    from detectors.base import data

    table: dict[str, str] = data("defaults")["bundled"]
    return table


def _evidence(c: Chosen) -> list[dict[str, object]]:
    return [e.to_json() for e in c.evidence]


def to_json(result: InitResult) -> dict[str, Any]:
    """The stable --json shape (docs/cli.md). Other tools parse it: add keys, never rename."""
    r = result.report
    tools = {}
    for name, c in r.tools.items():
        tools[name] = {"version": c.version, "kind": c.kind, "evidence": _evidence(c),
                       "project": c.project, **c.extra}
    return {
        "project": {"name": r.root_name},
        "tools": tools,
        "system": {"packages": {n: {"evidence": _evidence(c)} for n, c in r.system.items()}},
        "services": {n: {"version": c.version, "kind": c.kind, "evidence": _evidence(c),
                         **c.extra} for n, c in r.services.items()},
        "env": {n: {"value": c.value, "candidate": True, "evidence": _evidence(c)}
                for n, c in r.env.items()},
        "tasks": {n: {"run": c.value, "evidence": _evidence(c)} for n, c in r.tasks.items()},
        "nix": ({r.nix.name: r.nix.version, "evidence": _evidence(r.nix)} if r.nix else None),
        "warnings": r.warnings,
        "suggestions": r.suggestions,
        "projects": r.projects,
        "path": str(result.path),
        "written": result.written,
    }


# The comment init writes after a value it inferred: "# FILE:LINE (kind)" or the rule.
_EVIDENCE = re.compile(r"^\s*\S+(:\d+)?\s.*\((pin|ci|floor|default|override)\b|"
                       r"^\s*\S+:\d+\s+RUN\b|^\s*\S+:\d+\s")


def _inferred(comment: str | None) -> bool:
    return bool(comment and _EVIDENCE.search(comment.lstrip("#")))


def merge_user(old_text: str, new_text: str) -> str:
    """The newly inferred env.toml, with what the user wrote in the old one kept: entries
    without init's evidence comment (tools, services, [nix], system packages) and every
    [env] variable (init only ever writes those as commented-out candidates). Inferred
    entries whose evidence is gone are dropped; inferred values are updated."""
    import tomlkit
    from tomlkit.items import Table

    try:
        old = tomlkit.parse(old_text)
    except Exception:  # an env.toml that does not parse: nothing of it can be kept
        return new_text
    new = tomlkit.parse(new_text)
    for section in ("tools", "services", "nix"):
        was = old.get(section)
        if not isinstance(was, Table):
            continue
        target = new.setdefault(section, tomlkit.table())
        for key, item in was.items():
            if not _inferred(getattr(getattr(item, "trivia", None), "comment", "")):
                target[key] = item
    env = old.get("env")
    if isinstance(env, Table) and len(env):
        target_env = new.setdefault("env", tomlkit.table())
        for key, item in env.items():
            target_env[key] = item
    kept = _user_packages(old_text, old)
    if kept:
        system = new.setdefault("system", tomlkit.table())
        packages = system.setdefault("packages", tomlkit.array())
        for name in kept:
            if name not in packages:
                packages.append(name)
    return tomlkit.dumps(new)


def _user_packages(old_text: str, old: Any) -> list[str]:
    """[system] packages the user added: listed without init's evidence comment."""
    system = old.get("system")
    packages = list(system.get("packages", [])) if hasattr(system, "get") else []
    inferred = {m.group(1) for m in re.finditer(r'^\s*"([^"]+)"\s*,?\s*#\s*\S+:\d+', old_text,
                                                re.MULTILINE)}
    return [str(p) for p in packages if str(p) not in inferred]
