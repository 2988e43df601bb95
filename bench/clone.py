"""Cached `zagi clone`: time from start to "cached", minus the git clone itself.

A repo whose env is published to a local cache; its store paths are deleted, so the
clone really downloads (and builds nothing). Medians of --runs.
Usage: .venv/bin/python bench/clone.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    zagi = str(Path(sys.executable).parent / "zagi")
    with tempfile.TemporaryDirectory(prefix="zagi-bench-clone-") as tmp:
        t = Path(tmp)
        env = {**os.environ, "ZAGI_NIXPKGS": str(REPO / "fixtures" / "nixpkgs"),
               "ZAGI_HOME": str(t / "maintainer"), "GIT_AUTHOR_NAME": "b",
               "GIT_AUTHOR_EMAIL": "b@b", "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@b"}
        app = t / "app"
        shutil.copytree(REPO / "fixtures" / "demo", app)
        run = lambda *a, cwd=app, e=env: subprocess.run(  # noqa: E731
            list(a), cwd=cwd, env=e, check=True, capture_output=True, text=True).stdout
        run("git", "init", "-q")
        run(zagi, "init")
        run(zagi, "sync")
        pub = run(zagi, "keys", "generate", "bench-1").strip()
        run(zagi, "publish")
        (app / ".zagi" / "config.toml").write_text(
            f'[cache]\nurls = ["file://{t / "maintainer" / "cache"}"]\npublic_keys = ["{pub}"]\n')
        run("git", "add", "-A")
        run("git", "commit", "-qm", "env")
        lock = json.loads((app / ".zagi" / "env.lock").read_text())
        entry = next(iter(lock["systems"].values()))
        shutil.rmtree(t / "maintainer" / "roots")
        totals, gits, fetched = [], [], []
        for i in range(args.runs):
            subprocess.run(["nix-store", "--delete", entry["out"]], capture_output=True)
            e = {**env, "ZAGI_HOME": str(t / f"user{i}")}
            t0 = time.perf_counter()
            # the user trusts the maintainer's key (a repo's own key is only a suggestion)
            out = json.loads(run(zagi, "clone", "--json", "--trust", pub, str(app), str(t / f"c{i}"),
                                 cwd=t, e=e))
            totals.append((time.perf_counter() - t0) * 1000)
            gits.append(out["clone_ms"])
            fetched.append(len(out["fetched"]))
            assert out["built"] == [], "a cached clone must build nothing"
            shutil.rmtree(t / f"user{i}" / "roots", ignore_errors=True)
    total, git = statistics.median(totals), statistics.median(gits)
    print(f"zagi clone (cached), whole command: {total:7.0f} ms  (median of {args.runs})")
    print(f"  of which git clone:               {git:7.0f} ms")
    print(f"  env resolution (the rest):        {total - git:7.0f} ms  "
          f"({statistics.median(fetched):.0f} path(s) fetched, 0 built)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
