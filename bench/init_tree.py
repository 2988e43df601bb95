"""`zagi init --dry-run` on a generated monorepo of N files, most under node_modules.

Target (issue 2): under 0.5 s for 100,000 files (80,000 under node_modules). The floor
printed beside it is `git ls-files | wc -l` on the same tree (git only reads its index).
Usage: .venv/bin/python bench/init_tree.py [--files 100000] [--runs 5] [--keep DIR]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _timing import compile_sources, ms, time_cmd


def generate(root: Path, files: int) -> None:
    """A pnpm monorepo: 20% project files in apps/ and packages/, 80% in node_modules."""
    (root / "package.json").write_text('{"name": "mono", "packageManager": "pnpm@9.1.0"}\n')
    (root / "pnpm-lock.yaml").write_text("lockfileVersion: '9.0'\n")
    (root / ".nvmrc").write_text("20\n")
    (root / "compose.yaml").write_text("services:\n  db:\n    image: postgres:16\n")
    nm, src = files * 8 // 10, files - files * 8 // 10
    per_dir = 50
    for i in range(0, nm, per_dir):
        d = root / "node_modules" / f"pkg{i // per_dir}" / "lib"
        d.mkdir(parents=True)
        (d.parent / "package.json").write_text('{"name": "x", "engines": {"node": ">=99"}}\n')
        for j in range(per_dir - 1):
            (d / f"f{j}.js").write_text("module.exports = 1\n")
    for i in range(0, src, per_dir):
        d = root / ("apps" if i % 2 else "packages") / f"p{i // per_dir}" / "src" / "deep"
        d.mkdir(parents=True)
        (d.parent.parent / "package.json").write_text('{"name": "p"}\n')
        for j in range(per_dir - 1):
            (d / f"m{j}.ts").write_text("export const x = 1\n")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--keep", help="generate into this directory and keep it")
    args = ap.parse_args()
    compile_sources()
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="zagi-bench-"))
    try:
        if not (root / "package.json").exists():
            root.mkdir(parents=True, exist_ok=True)
            generate(root, args.files)
            subprocess.run(["git", "init", "-q"], cwd=root, check=True)
            subprocess.run(["git", "add", "-A"], cwd=root, check=True)
        count = subprocess.run("git ls-files | wc -l", shell=True, cwd=root, check=True,
                               capture_output=True, text=True).stdout.strip()
        zagi = str(Path(sys.executable).parent / "zagi")
        floor = time_cmd(["git ls-files | wc -l"], args.runs, shell=True, cwd=str(root))
        init = time_cmd([zagi, "init", "--dry-run", "--json", str(root)], args.runs)
        print(f"tree: {count} files tracked by git ({args.files} generated, 80% in node_modules)")
        print(f"git ls-files | wc -l   {ms(floor)}   (floor, median of {args.runs})")
        print(f"zagi init --dry-run    {ms(init)}   ratio {init / floor:5.1f}x the floor"
              f"   target < 500 ms")
        print("PASS" if init < 0.5 else "MISS", "zagi init --dry-run under 0.5 s")
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
