"""Choose one value per name from all findings, keeping every reason and every conflict.

Order (first wins): a finding with a version beats one without; a pin from the
repo root beats anything from a subproject; then higher rank (detectors/rank.py);
then the shallower subproject; then the order found. Findings that agree with
the winner become extra evidence; ones that disagree become a warning naming
both sources. Nothing loses silently.
"""

from __future__ import annotations

from collections.abc import Iterable

from detectors import rank
from zagi.core.names import TOOLS
from zagi.core.versions import may_agree
from zagi.formats.findings import Chosen, Evidence, Finding, Report


def _order(item: tuple[int, Finding]) -> tuple[bool, bool, int, int, str, int]:
    idx, f = item
    root_pin = f.project == "." and f.kind in ("pin", "ci", "override")
    depth = 0 if f.project == "." else f.project.count("/") + 1
    return (f.version is None, not root_pin, -f.rank, depth, f.project, idx)


def _agrees(a: Finding, b: Finding) -> bool:
    if a.category == "env":
        return a.value == b.value
    return a.version is None or b.version is None or may_agree(a.version, b.version)


def _choose(name: str, group: list[Finding], warnings: list[str]) -> Chosen:
    ranked = [f for _, f in sorted(enumerate(group), key=_order)]
    win = ranked[0]
    evidence: list[Evidence] = [win.evidence]
    extra: dict[str, list[str]] = {k: list(v) for k, v in win.extra}
    for f in ranked[1:]:
        if f.rank == rank.DEFAULT and win.rank != rank.DEFAULT:
            continue  # the documented default is no evidence once anything real was found
        if _agrees(win, f):
            if f.evidence not in evidence:
                evidence.append(f.evidence)
            for k, vals in f.extra:
                extra.setdefault(k, [])
                extra[k] += [v for v in vals if v not in extra[k]]
            continue
        said = f.value if win.category == "env" else f.version
        using = win.value if win.category == "env" else win.version
        why = ("the repo root wins" if win.project == "." and f.project != "."
               else "more specific" if win.rank > f.rank else "found first")
        warnings.append(
            f"{name}: {win.evidence.cite()} says {using} ({win.kind}, {win.evidence.rule}) but "
            f"{f.evidence.cite()} says {said} ({f.kind}, {f.evidence.rule}); using {using} "
            f"({why})"
        )
    return Chosen(name, win.version, win.kind, evidence, win.project, extra, win.value)


def _group(findings: Iterable[Finding], category: str) -> dict[str, list[Finding]]:
    groups: dict[str, list[Finding]] = {}
    for f in findings:
        if f.category == category:
            groups.setdefault(f.name, []).append(f)
    return groups


def merge(root_name: str, findings: list[Finding], warnings: list[str],
          suggestions: list[tuple[str, str]], projects: list[dict[str, object]]) -> Report:
    report = Report(root_name=root_name, projects=projects)
    conflicts: list[str] = []
    for cat, target in (("tool", report.tools), ("service", report.services),
                        ("env", report.env)):
        for name, group in _group(findings, cat).items():
            target[name] = _choose(name, group, conflicts)
    # Canonical order (runtime before its manager) for the summary, JSON and env.toml alike.
    order = {n: i for i, n in enumerate(TOOLS)}
    report.tools = dict(sorted(report.tools.items(), key=lambda kv: order.get(kv[0], len(order))))
    for name, group in _group(findings, "system").items():
        evidence = list(dict.fromkeys(f.evidence for f in group))
        report.system[name] = Chosen(name, None, "pin", evidence, group[0].project)
    nix = [f for f in findings if f.category == "nix"]
    if nix:
        best = min(nix, key=lambda f: (f.project != ".", f.project.count("/"), -f.rank))
        report.nix = Chosen(best.name, best.version, "pin", [best.evidence], best.project)
    report.warnings = warnings + conflicts
    # A client library only suggests a service, and only while nothing stronger found it.
    report.suggestions = list(dict.fromkeys(msg for svc, msg in suggestions
                                            if svc not in report.services))
    return report
