"""The architecture's one-way dependencies, checked on the source (no import-linter needed).

zagi.cli -> zagi.app -> {detectors, nixgen, mirror, shellhooks} -> zagi.core
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

SIBLINGS = ("detectors", "nixgen", "mirror", "shellhooks")


def layer(module: str) -> str:
    parts = module.split(".")
    if parts[0] == "zagi" and len(parts) > 1 and parts[1] in ("core", "app", "cli"):
        return f"zagi.{parts[1]}"
    return parts[0]


ALLOWED: dict[str, set[str]] = {
    "zagi.core": {"zagi.core", "zagi"},
    **{s: {s, "zagi.core", "zagi"} for s in SIBLINGS},
    "zagi.app": {"zagi.app", "zagi.core", "zagi", *SIBLINGS},
    "zagi.cli": {"zagi.cli", "zagi.app", "zagi.core", "zagi"},
    # __main__ starts the CLI, or answers `--version` / a cached `sync` itself (zagi.app.fastsync)
    "zagi": {"zagi", "zagi.cli", "zagi.app"},
}
OURS = {"zagi", *SIBLINGS}


def imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), str(path))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.lineno, node.module))
            out += [(node.lineno, f"{node.module}.{a.name}") for a in node.names
                    if node.module in ("zagi", "zagi.core", "zagi.app", "zagi.cli")]
    return out


def violations(root: Path) -> list[str]:
    found = []
    for pkg in OURS:
        for path in sorted((root / pkg).rglob("*.py")):
            mod = ".".join(path.relative_to(root).with_suffix("").parts)
            src = layer(mod)
            for line, target in imports(path):
                if target.split(".")[0] not in OURS:
                    continue
                dst = layer(target)
                if dst not in ALLOWED[src]:
                    found.append(f"{path.relative_to(root)}:{line}: {src} imports {dst}")
    return sorted(set(found))


def test_dependencies_point_one_way() -> None:
    assert violations(REPO) == []


def test_only_the_chokepoint_starts_processes() -> None:
    """One subprocess chokepoint: zagi/core/proc.py. Nothing else imports subprocess/os.system."""
    offenders = []
    for pkg in OURS:
        for path in sorted((REPO / pkg).rglob("*.py")):
            if path == REPO / "zagi" / "core" / "proc.py":
                continue
            text = path.read_text()
            for _, target in imports(path):
                if target.split(".")[0] in ("subprocess", "pty", "multiprocessing"):
                    offenders.append(f"{path.relative_to(REPO)} imports {target}")
            if "os.system(" in text or "os.popen(" in text or "os.exec" in text:
                offenders.append(f"{path.relative_to(REPO)} calls os.system/popen/exec")
    assert offenders == []


def test_the_check_catches_a_violation(tmp_path: Path) -> None:
    for pkg in OURS:
        (tmp_path / pkg).mkdir()
    (tmp_path / "zagi" / "core").mkdir()
    (tmp_path / "zagi" / "core" / "bad.py").write_text("from zagi.cli import main\n")
    (tmp_path / "detectors" / "bad.py").write_text("import nixgen\n")
    assert violations(tmp_path) == [
        "detectors/bad.py:1: detectors imports nixgen",
        "zagi/core/bad.py:1: zagi.core imports zagi.cli",
    ]
