"""The context a detector works in, and the small vocabulary it records findings with."""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from detectors.fs import RepoFS
from detectors.text import ParseError
from zagi.formats.findings import Category, Evidence, Finding, Kind


@functools.cache
def data(name: str) -> dict[str, Any]:
    """A table from detectors/data/NAME.toml (the rules that are data, not code)."""
    return tomllib.loads(resources.files("detectors").joinpath(f"data/{name}.toml").read_text())


@dataclass
class Project:
    path: str
    ecosystems: set[str] = field(default_factory=set)
    files: set[str] = field(default_factory=set)
    workspaces: list[str] = field(default_factory=list)
    name: str | None = None  # from the manifest (package.json name, [project] name, ...)


@dataclass
class Ctx:
    """One directory of the repo being examined; detectors record into it."""

    fs: RepoFS
    dir: str  # "." for the root, else "apps/web"
    names: frozenset[str]  # entries of `dir`
    findings: list[Finding]
    warnings: list[str]
    suggestions: list[tuple[str, str]]  # (service, message): dropped if the service is found
    project: Project

    def rel(self, name: str) -> str:
        return name if self.dir == "." else f"{self.dir}/{name}"

    def has(self, name: str) -> bool:
        return name in self.names if "/" not in name else self.fs.exists(self.rel(name))

    def text(self, name: str) -> str | None:
        return self.fs.text(self.rel(name))

    def head(self, name: str, size: int = 64 << 10) -> str | None:
        return self.fs.head(self.rel(name), size)

    def mark(self, ecosystem: str, name: str) -> None:
        self.project.ecosystems.add(ecosystem)
        self.project.files.add(self.rel(name))

    def name(self, value: object) -> None:
        """Offer the project's own name (first manifest wins)."""
        if self.project.name is None and isinstance(value, str) and value.strip():
            self.project.name = value.strip()

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def bad(self, name: str, err: ParseError) -> None:
        where = self.rel(name) + (f":{err.line}" if err.line else "")
        self.warn(f"{where}: {err}; ignored")

    def add(
        self,
        category: Category,
        name: str,
        version: str | None,
        kind: Kind,
        file: str,
        line: int | None,
        rule: str,
        rank: int,
        extra: dict[str, list[str]] | None = None,
        value: str | None = None,
    ) -> None:
        ev = Evidence(self.rel(file), line, rule)
        ext = tuple((k, tuple(v)) for k, v in sorted((extra or {}).items()) if v)
        self.findings.append(
            Finding(category, name, version, kind, ev, rank, self.dir, ext, value)
        )

    def tool(self, name: str, version: str | None, kind: Kind, file: str, line: int | None,
             rule: str, rank: int, extra: dict[str, list[str]] | None = None) -> None:
        self.add("tool", name, version, kind, file, line, rule, rank, extra)

    def default(self, name: str, file: str, rule: str) -> None:
        """The documented default for `name` (detectors/data/defaults.toml), kind default."""
        version = data("defaults")["tools"].get(name)
        self.add("tool", name, version or None, "default", file, None, rule, 0)

    def system(self, name: str, file: str, line: int | None, rule: str) -> None:
        self.add("system", name, None, "pin", file, line, rule, 50)

    def service(self, name: str, version: str | None, file: str, line: int | None,
                rule: str, rank: int, extra: dict[str, list[str]] | None = None) -> None:
        self.add("service", name, version, "pin" if version else "default", file, line,
                 rule, rank, extra)
