"""What detectors return and what `zagi init` reports: values with their evidence.

Plain frozen dataclasses (not pydantic) because detectors create thousands of
them on big monorepos and because they are the contract between detectors/ and
zagi.project, which must not depend on each other's internals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["pin", "ci", "floor", "default", "override"]
Category = Literal["tool", "system", "service", "env", "nix"]


@dataclass(frozen=True, slots=True)
class Evidence:
    file: str  # path relative to the repo root, "/"-separated
    line: int | None
    rule: str  # short, human: "packageManager field", "FROM node:20-alpine"

    def cite(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file

    def to_json(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "rule": self.rule}


@dataclass(frozen=True, slots=True)
class Finding:
    """One inferred value. `rank` orders findings of one name: higher is more specific.

    Ranks are data (detectors/rank.py) so precedence is decided in one place.
    """

    category: Category
    name: str
    version: str | None
    kind: Kind
    evidence: Evidence
    rank: int
    project: str = "."  # the subproject directory the evidence came from
    extra: tuple[tuple[str, tuple[str, ...]], ...] = ()  # e.g. (("components", ("clippy",)),)
    value: str | None = None  # for env candidates


@dataclass
class Chosen:
    """The winning value for one name, with every finding that supported or lost to it."""

    name: str
    version: str | None
    kind: Kind
    evidence: list[Evidence]
    project: str = "."
    extra: dict[str, list[str]] = field(default_factory=dict)
    value: str | None = None


@dataclass
class Report:
    """The result of inference over one repository; `zagi init` renders it."""

    root_name: str
    tools: dict[str, Chosen] = field(default_factory=dict)
    system: dict[str, Chosen] = field(default_factory=dict)
    services: dict[str, Chosen] = field(default_factory=dict)
    env: dict[str, Chosen] = field(default_factory=dict)
    tasks: dict[str, Chosen] = field(default_factory=dict)  # value: the command line
    nix: Chosen | None = None
    warnings: list[str] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)
    projects: list[dict[str, object]] = field(default_factory=list)
