"""Mirror throughput: jobs per minute for 1 and 2 workers on N small repositories, and the
median time of each step (clone, detect, lock, build, check, publish), in one run.

Repositories: git repos made here (node, python, go, rust; versions the stand-in package
set has), each mirrored to a fresh directory cache. The 1-worker pass runs first and
builds what the envs need; the 2-worker pass mirrors other repositories with the same
envs, so both measure a mirror whose store already holds the common closures (as a
mirror running all day does); the build step is then the env's own derivation.
Usage: .venv/bin/python bench/mirror.py [--repos 10]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _timing import compile_sources

REPO = Path(__file__).resolve().parent.parent
ZAGI = str(REPO / ".venv" / "bin" / "zagi")
KINDS = [
    {".nvmrc": "20\n", "package.json": '{"name": "web"}\n'},
    {".python-version": "3.12\n", "pyproject.toml": '[project]\nname = "app"\n'},
    {"go.mod": "module example.com/x\n\ngo 1.22\n"},
    {".nvmrc": "18\n", "package.json": '{"name": "old"}\n'},
    {"rust-toolchain.toml": '[toolchain]\nchannel = "1.79.0"\n', "Cargo.toml":
     '[package]\nname = "x"\nversion = "0.1.0"\n'},
]


def make_repos(root: Path, n: int, tag: str) -> list[str]:
    urls = []
    for i in range(n):
        d = root / tag / f"repo{i}"
        d.mkdir(parents=True)
        for name, text in KINDS[i % len(KINDS)].items():
            (d / name).write_text(text)
        (d / "README").write_text(f"{tag} {i}\n")  # a distinct commit per repository
        g = ["git", "-C", str(d), "-c", "user.name=b", "-c", "user.email=b@e"]
        subprocess.run(["git", "init", "-q", str(d)], check=True)
        subprocess.run([*g, "add", "-A"], check=True)
        subprocess.run([*g, "commit", "-qm", "init"], check=True)
        urls.append(f"file://{d}")
    return urls


def run_pass(t: Path, urls: list[str], workers: int, env: dict[str, str], tag: str
             ) -> tuple[float, list[dict[str, Any]]]:
    queue, cache = t / f"queue-{tag}", t / f"cache-{tag}"
    subprocess.run([ZAGI, "mirror", "add", *urls, "--queue", str(queue)], env=env, check=True,
                   capture_output=True)
    t0 = time.perf_counter()
    procs = [subprocess.Popen([ZAGI, "mirror", "work", "--once", "--to", f"file://{cache}",
                               "--queue", str(queue)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL) for _ in range(workers)]
    for p in procs:
        p.wait()
    secs = time.perf_counter() - t0
    status = json.loads(subprocess.run([ZAGI, "mirror", "status", "--json", "--queue",
                                        str(queue)], env=env, check=True, capture_output=True,
                                       text=True).stdout)
    return secs, status["jobs"]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repos", type=int, default=10)
    args = ap.parse_args()
    compile_sources()
    with tempfile.TemporaryDirectory(prefix="zagi-bench-mirror-") as tmp:
        t = Path(tmp)
        env = {**os.environ, "ZAGI_HOME": str(t / "home"),
               "ZAGI_NIXPKGS": str(REPO / "fixtures" / "nixpkgs")}
        subprocess.run([ZAGI, "keys", "generate", "bench-mirror-1"], env=env, check=True,
                       capture_output=True)
        rows = []
        for workers in (1, 2):
            urls = make_repos(t, args.repos, f"w{workers}")
            secs, jobs = run_pass(t, urls, workers, env, f"w{workers}")
            rows.append((workers, secs, jobs))
        subprocess.run(["rm", "-rf", str(t / "home" / "roots")], check=False)
    for workers, secs, jobs in rows:
        done = [j for j in jobs if j["state"] == "published"]
        print(f"{workers} worker(s): {len(done)}/{len(jobs)} published in {secs:.1f} s = "
              f"{len(done) / secs * 60:.1f} jobs/min")
        steps: dict[str, list[float]] = {}
        for j in done:
            for step, ms_ in (j.get("timings") or {}).items():
                steps.setdefault(step, []).append(float(ms_))
        print("   median per step: " + ", ".join(
            f"{s} {statistics.median(v):.0f} ms" for s, v in steps.items()))
        for j in jobs:
            if j["state"] != "published":
                print(f"   failed: {j['url']}: {j.get('reason')}")
    if len(rows) == 2:
        print(f"2 workers vs 1: {rows[0][1] / rows[1][1]:.2f}x the throughput")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
