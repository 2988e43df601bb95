"""The architecture, checked on the source (docs/architecture.md draws it).

- Dependencies point one way: a package imports only packages on lower levels (and
  itself); packages on the same level never import each other.
- No import cycles between modules, not even inside one package.
- No `_private` name is used across a package boundary.
- Every package says what it offers (`__all__`).
- One subprocess chokepoint (zagi/core/proc.py); git and Nix through their drivers.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import REPO

# Lowest first. Within a level, packages are siblings and do not know each other.
LEVELS: list[tuple[str, ...]] = [
    ("zagi.core",),                                  # stdlib only: errors, proc, layout...
    ("zagi.formats",),                               # file formats: spec, lockfile, nar...
    ("zagi.drivers", "zagi.storage"),                # nix, git, sandbox | object storage
    ("detectors", "nixgen", "shellhooks"),           # pure domain logic
    ("zagi.project",),                               # find, init, edit
    ("zagi.secrets", "zagi.cache", "zagi.services"),  # use-cases on the project
    ("zagi.server",),                                # the bucket remote; push publishes
    ("zagi.env",),                                   # lock, sync, trust, run, agent...
    ("zagi.history",),                               # log, diff, checkout, git hooks, ops
    ("mirror",),                                     # clones, locks and publishes
    ("zagi.cli",),                                   # presentation only
    ("zagi.__main__",),                              # the console script
]
LEVEL = {pkg: n for n, pkgs in enumerate(LEVELS) for pkg in pkgs}
TOP = ("zagi", "detectors", "nixgen", "mirror", "shellhooks")
# CLI modules every command may use; commands never import one another.
CLI_SHARED = {"zagi.cli.output", "zagi.cli.options", "zagi.cli.progress"}


def package_of(module: str) -> str | None:
    """The layered package a module belongs to (None: the bare `zagi`, i.e. __version__)."""
    parts = module.split(".")
    if parts[0] != "zagi":
        return parts[0]
    if len(parts) == 1:
        return None
    return f"zagi.{parts[1]}"


def modules(root: Path) -> Iterator[tuple[str, Path]]:
    for top in TOP:
        for path in sorted((root / top).rglob("*.py")):
            rel = path.relative_to(root).with_suffix("")
            parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
            yield ".".join(parts), path


def imports(path: Path, module: str) -> list[tuple[int, str, list[str]]]:
    """(line, imported module, names taken from it) for every import, lazy ones included."""
    tree = ast.parse(path.read_text(), str(path))
    is_pkg = path.name == "__init__.py"
    out: list[tuple[int, str, list[str]]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name, []) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against this module's package
                anchor = module.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_pkg else 0)]
                base = ".".join([*anchor, *([base] if base else [])])
            out.append((node.lineno, base, [a.name for a in node.names]))
    return out


def ours(target: str) -> bool:
    return target.split(".")[0] in TOP


def resolve(target: str, names: list[str], known: set[str]) -> list[str]:
    """`from pkg import mod` imports module pkg.mod: count it as such."""
    subs = [f"{target}.{n}" for n in names if f"{target}.{n}" in known]
    return subs or [target]


def violations(root: Path) -> list[str]:
    found: list[str] = []
    known = {m for m, _ in modules(root)}
    for mod, path in modules(root):
        src = "zagi.__main__" if mod == "zagi.__main__" else package_of(mod)
        if src is None:
            continue
        for line, target, names in imports(path, mod):
            if not ours(target):
                continue
            where = f"{path.relative_to(root)}:{line}"
            for dst_mod in resolve(target, names, known):
                dst = package_of(dst_mod)
                if dst is None or dst == src:
                    continue
                if dst not in LEVEL:
                    found.append(f"{where}: {dst} has no level")
                elif LEVEL[dst] >= LEVEL[src]:
                    found.append(f"{where}: {src} imports {dst}")
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            if private and package_of(target) != src:
                found.append(f"{where}: {src} takes private {', '.join(private)} from {target}")
            if any(p.startswith("_") and not p.startswith("__") for p in target.split(".")) \
                    and package_of(target) != src:
                found.append(f"{where}: {src} imports private module {target}")
    return sorted(set(found))


def cycles(root: Path) -> list[list[str]]:
    """Strongly connected groups of modules (Tarjan), counting lazy imports too."""
    known = {m for m, _ in modules(root)}
    graph: dict[str, set[str]] = {m: set() for m in known}
    for mod, path in modules(root):
        for _, target, names in imports(path, mod):
            for dst in resolve(target, names, known):
                while dst and dst not in known:
                    dst = dst.rpartition(".")[0]
                if dst and dst != mod and not mod.startswith(dst + "."):
                    graph[mod].add(dst)  # a package's __init__ importing its own parts is fine
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    groups: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return groups


def test_dependencies_point_one_way() -> None:
    assert violations(REPO) == []


def test_no_import_cycles() -> None:
    assert cycles(REPO) == []


def test_every_package_declares_all() -> None:
    missing = []
    for mod, path in modules(REPO):
        if path.name == "__init__.py" and "__all__" not in path.read_text():
            missing.append(mod)
    assert missing == []


def test_cli_commands_do_not_import_each_other() -> None:
    bad = []
    for mod, path in modules(REPO):
        if not mod.startswith("zagi.cli.") or mod in CLI_SHARED:
            continue
        for line, target, names in imports(path, mod):
            for dst in resolve(target, names, {m for m, _ in modules(REPO)}):
                if dst.startswith("zagi.cli.") and dst not in CLI_SHARED and dst != mod \
                        and mod != "zagi.cli.main":
                    bad.append(f"{path.relative_to(REPO)}:{line}: {mod} imports {dst}")
    assert bad == []


def test_only_the_chokepoint_starts_processes() -> None:
    """One subprocess chokepoint: zagi/core/proc.py. Nothing else imports subprocess/os.system."""
    offenders = []
    for mod, path in modules(REPO):
        if path == REPO / "zagi" / "core" / "proc.py":
            continue
        text = path.read_text()
        for _, target, _names in imports(path, mod):
            if target.split(".")[0] in ("subprocess", "pty", "multiprocessing"):
                offenders.append(f"{path.relative_to(REPO)} imports {target}")
        if "os.system(" in text or "os.popen(" in text or "os.exec" in text or "os.fork(" in text:
            offenders.append(f"{path.relative_to(REPO)} calls os.system/popen/exec/fork")
    assert offenders == []


def test_git_and_nix_only_through_their_drivers() -> None:
    """argv starting with "git" or a Nix command is built in zagi/drivers only."""
    drivers = {REPO / "zagi" / "drivers" / "git.py", REPO / "zagi" / "drivers" / "nix.py"}
    programs = {"git", "nix", "nix-store", "nix-instantiate", "nix-build", "nix-hash",
                "nix-prefetch-url"}
    offenders = []
    for _mod, path in modules(REPO):
        if path in drivers:
            continue
        tree = ast.parse(path.read_text())
        exports = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Assign | ast.AnnAssign)
                   and any(isinstance(t, ast.Name) and t.id == "__all__"
                           for t in (n.targets if isinstance(n, ast.Assign) else [n.target]))}
        for node in ast.walk(tree):
            if isinstance(node, ast.List) and node.elts and id(node) not in exports:
                first = node.elts[0]
                if isinstance(first, ast.Constant) and first.value in programs:
                    offenders.append(f"{path.relative_to(REPO)}:{node.lineno}: [{first.value!r}, ...]")
    assert offenders == []


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for top in TOP:
        (tmp_path / top).mkdir(exist_ok=True)
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return tmp_path


def test_the_checks_catch_violations(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "zagi/core/bad.py": "from zagi.cli import main\n",
        "detectors/bad.py": "import nixgen\n",
        "zagi/env/a.py": "from zagi.cache.writer import _compress\n",
        "zagi/cache/writer.py": "def _compress(): ...\n",
        "zagi/cli/main.py": "",
    })
    assert violations(root) == [
        "detectors/bad.py:1: detectors imports nixgen",
        "zagi/core/bad.py:1: zagi.core imports zagi.cli",
        "zagi/env/a.py:1: zagi.env takes private _compress from zagi.cache.writer",
    ]


def test_the_cycle_check_catches_a_cycle(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "zagi/cache/a.py": "from zagi.cache import b\n",
        "zagi/cache/b.py": "def f():\n    from zagi.cache.a import x\n",
    })
    assert cycles(root) == [["zagi.cache.a", "zagi.cache.b"]]
