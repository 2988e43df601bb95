"""What the shipped catalog costs `zagi lock`, and what it covers.

Cost: fresh processes that do what `zagi lock` does before it resolves (import
zagi.env.lock, load an env.toml asking for node, python and postgres); each then times,
with perf_counter, that preparation (the baseline) and loading the shipped catalog plus
resolving the three (what the catalog adds). Medians of --runs processes. Target: the
catalog adds <= 20 ms. Also the catalog's size (shipped in the wheel, target <= 2 MB).
Coverage: per zagi name, its lines and versions, and how many entries carry
x86_64-linux store paths (lockable without evaluating nixpkgs).
Usage: .venv/bin/python bench/catalog.py [--runs 15]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PY = str(REPO / ".venv" / "bin" / "python")
PROBE = """
import json, sys, time
t0 = time.perf_counter()
from zagi.env.lock import resolve_all
from zagi.formats import spec
s = spec.load(__import__("pathlib").Path(sys.argv[1]))
t1 = time.perf_counter()
from nixgen import catalog
resolve_all(s, catalog.load())
t2 = time.perf_counter()
print(json.dumps([t1 - t0, t2 - t1]))
"""
ENV_TOML = 'schema = 1\n[tools]\nnode = "20"\npython = "3.12"\n[services]\npostgres = "16"\n'
NAMES = ["node", "python", "go", "rust", "ruby", "php", "java", "dotnet", "bun", "deno", "pnpm",
         "yarn", "uv", "poetry", "postgres", "mysql", "redis", "zig", "elixir", "openssl"]


def probe(env_toml: Path, runs: int) -> tuple[float, float]:
    base, cat = [], []
    for _ in range(runs):
        out = subprocess.run([PY, "-c", PROBE, str(env_toml)], check=True, cwd=REPO,
                             capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"}).stdout
        b, c = json.loads(out)
        base.append(b)
        cat.append(c)
    return statistics.median(base), statistics.median(cat)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    sys.path.insert(0, str(REPO))
    from nixgen import catalog

    path = REPO / "nixgen" / "data" / "catalog.json"
    cat = catalog.parse(path.read_text(), str(path), None)
    with tempfile.TemporaryDirectory() as tmp:
        env_toml = Path(tmp) / "env.toml"
        env_toml.write_text(ENV_TOML)
        probe(env_toml, 2)  # warm the page cache and .pyc files
        base, added = probe(env_toml, args.runs)
    entries = sum(len(v) for v in cat.packages.values())
    print(f"catalog: {path.stat().st_size / 1e6:.2f} MB (target <= 2 MB), "
          f"{len(cat.revisions)} revisions, {entries} entries, {len(cat.packages)} names")
    print(f"zagi lock before resolving (import + env.toml): median {base * 1000:.0f} ms; "
          f"the catalog (load + resolve node, python, postgres) adds {added * 1000:.1f} ms "
          f"(target <= 20 ms), {added / base:.2f}x of that baseline, {args.runs} processes")
    print(f"\n{'name':<10} {'lines':<44} {'versions':>8} {'x86 paths':>10}")
    for name in NAMES:
        rows = cat.packages.get(name, [])
        lines = sorted({cat.line_of(name, e.version) for e in rows},
                       key=lambda ln: tuple(int(p) for p in ln.split(".") if p.isdigit()))
        shown = ", ".join(lines) if len(lines) <= 9 else ", ".join([*lines[:3], "…", *lines[-5:]])
        with_paths = sum(1 for e in rows if "x86_64-linux" in e.outputs)
        print(f"{name:<10} {shown:<44} {len({e.version for e in rows}):>8} "
              f"{with_paths:>4}/{len(rows):<5}")


if __name__ == "__main__":
    main()
