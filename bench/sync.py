"""Cached `zagi sync` (env already realized) against bare `python -c pass`.

Target (issue 3): within 1.5x of bare Python: the cached case starts no Nix and
imports nothing heavy. Uses the stand-in package set and a throwaway ZAGI_HOME.
Usage: .venv/bin/python bench/sync.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _timing import compile_sources, ms, time_cmd

REPO = Path(__file__).resolve().parent.parent


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args()
    compile_sources()
    zagi = str(Path(sys.executable).parent / "zagi")
    with tempfile.TemporaryDirectory(prefix="zagi-bench-sync-") as tmp:
        os.environ["ZAGI_HOME"] = f"{tmp}/home"
        os.environ["ZAGI_NIXPKGS"] = str(REPO / "fixtures" / "nixpkgs")
        proj = Path(tmp) / "proj"
        (proj / ".zagi").mkdir(parents=True)
        (proj / ".zagi" / "env.toml").write_text(
            '[tools]\nnode = "20"\npnpm = "9"\n[system]\npackages = ["libpq", "openssl"]\n')
        first = subprocess.run([zagi, "sync"], cwd=proj, capture_output=True, text=True)
        if first.returncode != 0:
            print(first.stderr)
            return 1
        base = time_cmd([sys.executable, "-c", "pass"], args.runs)
        cached = time_cmd([zagi, "sync"], args.runs, cwd=str(proj))
        check = subprocess.run([zagi, "sync"], cwd=proj, capture_output=True, text=True).stdout
    print(f"python -c pass          {ms(base)}   (baseline, median of {args.runs})")
    print(f"zagi sync (cached)      {ms(cached)}   ratio {cached / base:4.2f}x   target <= 1.50x")
    print(f"  it said: {check.strip()}")
    print("PASS" if cached / base <= 1.5 else "MISS", "cached zagi sync within 1.5x of bare python")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
