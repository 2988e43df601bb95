"""Building the shipped catalog from harvested facts (docs/catalog.md, "The shipped catalog").

A fact says: nixpkgs commit C (dated D) carries attribute A at version V, whose outputs
are these store paths on these systems (JSON Lines, the harvest's format: see
nixgen/facts/README.md). This module checks every fact, refuses contradictions with
FILE:LINE, places facts on zagi names by attrs.toml and by version (not by attribute
name: `postgresql` at 15.4 serves postgres 15), and keeps per (name, version) the
newest commit and a few alternates. Nothing here runs Nix or reaches the network.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zagi.core.errors import BadInput
from zagi.core.versions import numeric

FORMAT = 2
ALTERNATES = 2  # per (name, version), beside the newest commit
# The outputs an env can use; debug symbols, docs and the like are never installed, so
# their paths would only make the shipped file bigger.
KEPT_OUTPUTS = ("out", "bin", "lib", "dev", "man")
MAX_FACT_BYTES = 1 << 20  # one JSON line; the largest harvested fact is ~30 KB
MAX_FACTS_FILE = 256 << 20

_REV = re.compile(r"[0-9a-f]{40}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_STORE = re.compile(r"/nix/store/([0-9a-df-np-sv-z]{32})-([^/]+)")
_SYSTEMS = ("x86_64-linux", "aarch64-linux", "x86_64-darwin", "aarch64-darwin")

# How an attribute names the version line it carries (nodejs_20, python312, php83, ...);
# first match wins. An attribute inside a package set (php83Packages.composer) names
# its parent's line, not its own, so only top-level attributes are read.
_LINE_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^python(\d)(\d+)(?:Full)?$"), r"\1.\2"),
    (re.compile(r"^(?:php|mysql)(\d)(\d)$"), r"\1.\2"),
    (re.compile(r"^mariadb_(\d\d)(\d+)$"), r"\1.\2"),
    (re.compile(r"^jdk(\d+)$"), r"\1"),
    (re.compile(r"^[a-z][a-z-]*_(\d+)_(\d+)$"), r"\1.\2"),
    (re.compile(r"^[a-z][a-z-]*-(\d+)_x$"), r"\1"),
    (re.compile(r"^[a-z][a-z-]*_(\d+)$"), r"\1"),
)


def attr_line(attr: str) -> str | None:
    """The version line an attribute's name promises: nodejs_20 -> "20", python312 ->
    "3.12", go_1_23 -> "1.23", mariadb_1011 -> "10.11"; None for a generic one."""
    for pattern, template in _LINE_RULES:
        if pattern.match(attr):
            return pattern.sub(template, attr)
    return None


def on_line(version: str, line: str) -> bool:
    want = numeric(line)
    return numeric(version)[: len(want)] == want


@dataclass
class Fact:
    commit: str
    date: str
    attr: str
    version: str
    outputs: dict[str, dict[str, str]]  # system -> output -> store path
    source: str
    where: str  # FILE:LINE


@dataclass
class Report:
    facts: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # unmapped attribute -> facts
    entries: int = 0


def _path_ok(path: str, version: str, output: str) -> bool:
    """A store path whose name ends in -VERSION or -VERSION-OUTPUT (devbox labels a
    converted bare path `out` even when it is `bin`, so any output suffix is allowed)."""
    m = _STORE.fullmatch(path)
    if not m:
        return False
    name = m.group(2)
    return name.endswith("-" + version) or any(
        name.endswith(f"-{version}-{o}") for o in (output, "bin", "out", "lib", "dev", "man"))


def _problem(raw: Any, mapped: set[str]) -> str | None:
    """What is wrong with one fact (the fields `_fact` reads), or None."""
    if not isinstance(raw, dict):
        return "not a JSON object"
    for key in ("commit", "date", "attr", "version"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            return f"missing or non-string {key!r}"
    if not _REV.fullmatch(raw["commit"]):
        return f"commit {raw['commit']!r} is not a 40-hex-digit nixpkgs commit"
    if not _DATE.fullmatch(raw["date"]):
        return f"date {raw['date']!r} is not UTC ISO 8601 (YYYY-MM-DDTHH:MM:SSZ)"
    sources = raw.get("sources")
    if not isinstance(sources, list) or not sources or not all(isinstance(s, str) for s in sources):
        return "no `sources` (every fact must name the lock files it came from)"
    if raw["attr"] not in mapped:
        return None  # skipped, not wrong: attrs.toml decides what ships
    line = attr_line(raw["attr"])
    if line is not None and not on_line(raw["version"], line):
        return f"attribute {raw['attr']} names line {line} but carries {raw['version']}"
    outputs = raw.get("outputs", {})
    if not isinstance(outputs, dict):
        return "`outputs` is not an object of systems"
    per_system = raw.get("system_versions") or {}
    if not isinstance(per_system, dict) or not all(isinstance(v, str) for v in per_system.values()):
        return "`system_versions` is not an object of system -> version"
    for system, outs in outputs.items():
        if not isinstance(outs, dict):
            return f"outputs for {system} are not an object"
        version = str(per_system.get(system, raw["version"]))
        for output, path in outs.items():
            if not isinstance(path, str) or not _path_ok(path, version, output):
                return (f"{system} output {output} {path!r} does not end in "
                        f"-{version}[-OUTPUT] (version and path disagree)")
    return None


def _fact(raw: dict[str, Any], where: str) -> Fact:
    per_system = raw.get("system_versions") or {}
    outputs = {}
    for system, outs in sorted(raw.get("outputs", {}).items()):
        # a system whose build is another version (flox: darwin's zulu beside openjdk)
        # does not serve this version there
        if system not in _SYSTEMS or per_system.get(system, raw["version"]) != raw["version"]:
            continue
        kept = {o: p for o, p in sorted(outs.items()) if o in KEPT_OUTPUTS}
        if kept:
            outputs[system] = kept
    return Fact(raw["commit"], raw["date"], raw["attr"], raw["version"], outputs,
                sorted(raw["sources"])[0], where)


def read(paths: Iterable[Path], mapped: set[str]) -> tuple[list[Fact], Report]:
    """Every fact of `paths` for a mapped attribute; BadInput (FILE:LINE) on a bad one or
    on two that contradict each other."""
    facts: list[Fact] = []
    report = Report()
    by_key: dict[tuple[str, str], Fact] = {}
    dated: dict[str, Fact] = {}
    for path in paths:
        for where, raw in _lines(path):
            report.facts += 1
            if problem := _problem(raw, mapped):
                raise BadInput(f"{where}: {problem}")
            if raw["attr"] not in mapped:
                report.skipped[raw["attr"]] = report.skipped.get(raw["attr"], 0) + 1
                continue
            fact = _fact(raw, where)
            _no_contradiction(fact, by_key, dated)
            facts.append(fact)
    return facts, report


def _no_contradiction(fact: Fact, by_key: dict[tuple[str, str], Fact],
                      dated: dict[str, Fact]) -> None:
    other = by_key.setdefault((fact.commit, fact.attr), fact)
    if other is not fact:
        if other.version != fact.version:
            raise BadInput(f"{fact.where}: {fact.attr} at {fact.commit[:12]} is {fact.version}, "
                           f"but {other.where} says {other.version}")
        for system in set(other.outputs) & set(fact.outputs):
            if other.outputs[system] != fact.outputs[system]:
                raise BadInput(f"{fact.where}: {fact.attr} {fact.version} at {fact.commit[:12]} "
                               f"has other {system} paths than {other.where}")
    first = dated.setdefault(fact.commit, fact)
    if first.date != fact.date:
        raise BadInput(f"{fact.where}: commit {fact.commit[:12]} is dated {fact.date}, "
                       f"but {first.where} dates it {first.date}")


def _lines(path: Path) -> Iterable[tuple[str, Any]]:
    try:
        size = path.stat().st_size
        if size > MAX_FACTS_FILE:
            raise BadInput(f"{path}: {size} bytes; a facts file may hold at most {MAX_FACTS_FILE}")
        handle = path.open("rb")
    except OSError as exc:
        raise BadInput(f"{path}: cannot read ({exc.strerror})") from None
    with handle:
        for number, line in enumerate(handle, start=1):
            where = f"{path}:{number}"
            if len(line) > MAX_FACT_BYTES:
                raise BadInput(f"{where}: a fact of {len(line)} bytes (at most {MAX_FACT_BYTES})")
            if not line.strip():
                continue
            try:
                yield where, json.loads(line)
            except (ValueError, UnicodeDecodeError) as exc:
                raise BadInput(f"{where}: not a JSON object ({exc})") from None


def _rank(f: Fact) -> tuple[int, str, int]:
    """Which of a version's facts to prefer: paths for more systems (lockable without
    evaluating), then the newer commit, then the more specific attribute."""
    return (len(f.outputs), f.date, len(f.attr))


def _keep(facts: list[Fact]) -> list[Fact]:
    """One version's facts: one per commit (the most specific attribute), the newest
    commit and the ALTERNATES best others."""
    per_commit: dict[str, Fact] = {}
    for f in facts:
        best = per_commit.get(f.commit)
        if best is None or _rank(f) > _rank(best):
            per_commit[f.commit] = f
    ordered = sorted(per_commit.values(), key=lambda f: (f.date, f.commit), reverse=True)
    newest, rest = ordered[0], sorted(ordered[1:], key=_rank, reverse=True)
    return [newest, *rest[:ALTERNATES]]


def build(paths: list[Path], names_of: dict[str, list[str]]) -> tuple[dict[str, Any], Report]:
    """The catalog document (format 2) the facts in `paths` describe."""
    facts, report = read(paths, set(names_of))
    grouped: dict[tuple[str, str], list[Fact]] = {}
    for f in facts:
        for name in names_of[f.attr]:
            grouped.setdefault((name, f.version), []).append(f)
    packages: dict[str, list[dict[str, Any]]] = {}
    revisions: dict[str, dict[str, str]] = {}
    for (name, _version), group in grouped.items():
        for f in _keep(group):
            entry: dict[str, Any] = {"version": f.version, "attr": f.attr, "rev": f.commit[:12],
                                     "source": f.source}
            if f.outputs:
                entry["outputs"] = f.outputs
            packages.setdefault(name, []).append(entry)
            revisions[f.commit[:12]] = {"id": f.commit[:12], "rev": f.commit, "date": f.date}
    report.entries = sum(len(v) for v in packages.values())
    ordered = sorted(revisions.values(), key=lambda r: (r["date"], r["rev"]))  # oldest first
    doc = {"format": FORMAT, "facts": sorted(str(p.name) for p in paths),
           "revisions": ordered,
           "packages": {k: sorted(v, key=lambda e: (numeric(e["version"]), e["version"],
                                                    e["rev"], e["attr"]))
                        for k, v in sorted(packages.items())}}
    return doc, report


def dump(doc: dict[str, Any]) -> str:
    """The shipped file's text: one entry per line keeps it small and its diffs readable."""
    lines = ["{", f'"format": {doc["format"]},', f'"facts": {json.dumps(doc["facts"])},',
             '"revisions": [']
    lines += [json.dumps(r, sort_keys=True) + ("," if i < len(doc["revisions"]) - 1 else "")
              for i, r in enumerate(doc["revisions"])]
    lines.append('],\n"packages": {')
    names = list(doc["packages"])
    for n, name in enumerate(names):
        lines.append(f"{json.dumps(name)}: [")
        entries = doc["packages"][name]
        lines += [json.dumps(e, sort_keys=True, separators=(",", ":"))
                  + ("," if i < len(entries) - 1 else "") for i, e in enumerate(entries)]
        lines.append("]" + ("," if n < len(names) - 1 else ""))
    lines.append("}\n}")
    return "\n".join(lines) + "\n"
