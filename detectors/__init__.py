"""Detectors: read a repository (never run it) and infer its environment.

`infer(root)` walks the repo (bounded depth, dependency dirs pruned), runs every
detector on each directory that could be a project, and merges the findings into
one Report with evidence for every value. No subprocess, no network, no import
of the repo's code: detectors only read files, through detectors.fs.RepoFS.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path

from detectors import (
    beam,
    ci,
    docker,
    dotnet,
    go,
    jvm,
    nixfiles,
    node,
    php,
    python,
    r,
    rank,
    ruby,
    rust,
    services,
    sources,
    swift,
    toolmanagers,
    zig,
)
from detectors.base import Ctx, Project
from detectors.fs import RepoFS
from detectors.merge import merge
from zagi.formats.findings import Evidence, Finding, Report

__all__ = ["AUXILIARY", "DETECTORS", "MAX_DEPTH", "auxiliary", "infer"]

DETECTORS = (node, python, r, rust, go, zig, ruby, php, jvm, beam, dotnet, swift,
             toolmanagers, docker, services, nixfiles, ci)
MAX_DEPTH = 3  # apps/web, packages/scope/pkg: deep enough for monorepos, cheap on huge trees
# Trees that hold other people's projects or test inputs, not this project: what they
# say feeds the env only when nothing outside them names a tool (docs/detection.md).
AUXILIARY = frozenset({"test", "tests", "testdata", "__tests__", "spec", "fixtures",
                       "examples", "example", "samples", "vendor", "third_party",
                       "third-party", "deps", "external"})


def auxiliary(rel: str) -> bool:
    return any(part.lower() in AUXILIARY for part in rel.split("/")) if rel != "." else False


def infer(root: Path, overrides: Iterable[tuple[str, str]] = (),
          max_depth: int = MAX_DEPTH) -> Report:
    warnings: list[str] = []
    suggestions: list[tuple[str, str]] = []
    findings: list[Finding] = []

    def warn(msg: str) -> None:
        if msg not in warnings:
            warnings.append(msg)

    fs = RepoFS(str(root), warn)
    projects: list[dict[str, object]] = []
    root_name: str | None = None
    aux_findings: list[Finding] = []
    aux_warnings: list[str] = []
    for rel, names in fs.walk(max_depth):
        proj = Project(rel)
        aux = auxiliary(rel)
        ctx = Ctx(fs, rel, names, aux_findings if aux else findings,
                  aux_warnings if aux else warnings, suggestions, proj)
        for det in DETECTORS:
            try:
                det.detect(ctx)
            except (ValueError, TypeError, KeyError, AttributeError, IndexError,
                    RecursionError) as exc:
                # A detector bug must not cost the user the rest of the report.
                warn(f"{rel}: internal error in the {det.__name__.split('.')[-1]} detector "
                     f"({type(exc).__name__}); its findings were skipped — please report")
        if rel == ".":
            root_name = proj.name
        if proj.ecosystems:
            projects.append({"path": rel, "ecosystems": sorted(proj.ecosystems),
                             "files": sorted(proj.files),
                             **({"workspaces": proj.workspaces} if proj.workspaces else {}),
                             **({"auxiliary": True} if aux else {})})
    findings += _auxiliary(findings, aux_findings, aux_warnings, warn)
    if not any(f.category == "tool" for f in findings):
        _source_files(fs, findings, warnings, suggestions, warn)
    for name, version in overrides:
        ev = Evidence("command line", None, f"--with {name}@{version}")
        findings.append(Finding("tool", name, version, "override", ev, rank.OVERRIDE))
    report = merge(project_name(root, root_name), findings, warnings, suggestions, projects)
    from detectors import tasks

    try:
        report.tasks = tasks.propose(fs, set(report.tools))
    except (ValueError, TypeError, KeyError, AttributeError, IndexError, RecursionError) as exc:
        report.warnings.append(f"internal error in the tasks detector ({type(exc).__name__}); "
                               "no tasks proposed — please report")
    return report


def project_name(root: Path, declared: str | None) -> str:
    """The root manifest's name if it has one, else the directory's; safe characters only."""
    name = declared or os.path.basename(os.path.realpath(root)) or "project"
    name = name.rsplit("/", 1)[-1]  # "@scope/pkg" -> "pkg"
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "project"


def _auxiliary(findings: list[Finding], aux: list[Finding], aux_warnings: list[str],
               warn: Callable[[str], None]) -> list[Finding]:
    """Test, example and vendored trees: used only when the rest names no tool at all
    (a repo that is nothing but examples); their warnings are counted, not listed."""
    use = not any(f.category == "tool" for f in findings)
    dirs = sorted({f.project for f in aux})
    if aux and not use:
        warn(f"ignored what {len(dirs)} test, example or vendored director"
             f"{'y' if len(dirs) == 1 else 'ies'} ask for ({', '.join(dirs[:3])}"
             f"{', ...' if len(dirs) > 3 else ''}): they are not this project's env")
    if aux_warnings and not use:
        warn(f"{len(aux_warnings)} warning(s) from test, example or vendored directories "
             "not shown")
    elif use:
        for w in aux_warnings:
            warn(w)
    return aux if use else []


def _source_files(fs: RepoFS, findings: list[Finding], warnings: list[str],
                  suggestions: list[tuple[str, str]], warn: Callable[[str], None]) -> None:
    """No manifest anywhere: guess from the root's (or src/'s) source files."""
    for rel in (".", "src"):
        names = frozenset(fs.listdir(rel)) if rel == "." or fs.exists(rel) else frozenset()
        ctx = Ctx(fs, rel, names, findings, warnings, suggestions, Project(rel))
        sources.detect(ctx)
        if any(f.category == "tool" for f in findings):
            warn("no manifest or version file: the tools were guessed from source files "
                 "(pin them in .zagi/env.toml)")
            return
