"""`zagi --version` against bare `python -c pass` on the same interpreter.

Target (issue 2): within 1.5x of bare Python. Prints medians and the ratio.
Usage: .venv/bin/python bench/startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _timing import compile_sources, ms, time_cmd


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args()
    compile_sources()
    py = sys.executable
    zagi = str(Path(py).parent / "zagi")
    base = time_cmd([py, "-c", "pass"], args.runs)
    version = time_cmd([zagi, "--version"], args.runs)
    helptext = time_cmd([zagi, "--help"], args.runs)
    init_help = time_cmd([zagi, "init", "--help"], args.runs)
    print(f"python -c pass      {ms(base)}   (baseline, median of {args.runs})")
    print(f"zagi --version      {ms(version)}   ratio {version / base:4.2f}x   target <= 1.50x")
    print(f"zagi --help         {ms(helptext)}   ratio {helptext / base:4.2f}x")
    print(f"zagi init --help    {ms(init_help)}   ratio {init_help / base:4.2f}x")
    ok = version / base <= 1.5
    print("PASS" if ok else "MISS", "zagi --version within 1.5x of bare python")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
