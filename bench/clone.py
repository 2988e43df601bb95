"""Cached `zagi clone`: time from start to "cached", minus the git clone itself.

A repo whose env is published to a local cache; before each run its whole closure is
deleted from the store, so the clone really downloads every path (and builds and
evaluates nothing). Baseline measured in the same run: plain `nix copy --from` of the
same closure from the same cache (the floor: what any tool must spend in Nix).
Target (issue 12): env resolution <= 280 ms median. Medians of --runs.
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
NIX = ["nix", "--extra-experimental-features", "nix-command"]


def delete_closure(paths: list[str]) -> bool:
    """Delete the paths and the unrooted garbage referring to them (a .drv stays alive
    while its output does, so outputs of referring .drvs go too, and whatever refers to
    those, until nothing new turns up); True if all are gone."""
    q = lambda *a: subprocess.run(["nix-store", "--query", *a], capture_output=True,  # noqa: E731
                                  text=True).stdout.split()
    doomed: set[str] = set()
    todo = [p for p in paths if Path(p).exists()]
    while todo:
        found = set(q("--referrers-closure", *todo))
        drvs = [p for p in found - doomed if p.endswith(".drv")]
        found.update(q("--outputs", *drvs) if drvs else [])
        todo = [p for p in found - doomed if Path(p).exists()]
        doomed |= found
    for _ in range(len(doomed) + 1):
        gone = [p for p in sorted(doomed) if Path(p).exists()
                and subprocess.run(["nix-store", "--delete", p], capture_output=True).returncode == 0]
        if not gone:
            break
    return not any(Path(p).exists() for p in paths)


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
        closure = [p["path"] for p in entry["closure"]]
        cache_url = f"file://{t / 'maintainer' / 'cache'}"
        totals, gits, fetched, floors = [], [], [], []
        for i in range(args.runs):
            if not delete_closure(closure):
                print("error: the env's store paths are kept alive on this machine "
                      "(nix-store --query --roots); cannot measure a download", file=sys.stderr)
                return 1
            e = {**env, "ZAGI_HOME": str(t / f"user{i}")}
            t0 = time.perf_counter()
            # the user trusts the maintainer's key (a repo's own key is only a suggestion)
            out = json.loads(run(zagi, "clone", "--json", "--trust", pub, str(app), str(t / f"c{i}"),
                                 cwd=t, e=e))
            totals.append((time.perf_counter() - t0) * 1000)
            gits.append(out["clone_ms"])
            fetched.append(len(out["fetched"]))
            assert out["built"] == [], "a cached clone must build nothing"
            assert len(out["fetched"]) == len(closure), "a cached clone fetches the closure"
            shutil.rmtree(t / f"user{i}" / "roots", ignore_errors=True)
            if not delete_closure(closure):
                print("error: could not delete the closure for the baseline", file=sys.stderr)
                return 1
            t0 = time.perf_counter()
            run(*NIX, "copy", "--from", cache_url, entry["out"], "--option",
                "extra-trusted-public-keys", pub, cwd=t)
            floors.append((time.perf_counter() - t0) * 1000)
    total, git = statistics.median(totals), statistics.median(gits)
    floor = statistics.median(floors)
    print(f"zagi clone (cached), whole command: {total:7.0f} ms  (median of {args.runs})")
    print(f"  of which git clone:               {git:7.0f} ms")
    print(f"  env resolution (the rest):        {total - git:7.0f} ms  "
          f"({statistics.median(fetched):.0f} path(s) fetched, 0 built, 0 evaluated)")
    print(f"  baseline: nix copy of the closure {floor:7.0f} ms  "
          f"(env resolution = {(total - git) / floor:.2f}x; target <= 280 ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
